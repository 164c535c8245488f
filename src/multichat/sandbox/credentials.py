"""How the sandbox keeps secrets: SHA-256 digests of tokens and codes, scrypt hashes of passwords.

Tokens are long random strings, so a plain digest is enough to store them; passwords are chosen
by people, so they get a salted, deliberately slow hash (stdlib ``hashlib.scrypt``).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets

# scrypt's cost: n=2**12, r=8 (4 MiB, ~15 ms). A real service goes higher (OWASP: n=2**17); the
# sandbox's passwords are published test data, so it only must never keep them in clear, and
# must start quickly. Each hash records its cost, so raising it later keeps old hashes valid.
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P, _SCRYPT_LENGTH = 2**12, 8, 1, 32
_SCHEME = "scrypt"


def token_hash(value: str) -> str:
    """The SHA-256 hex digest under which a secret, code or token is stored."""
    return hashlib.sha256(value.encode()).hexdigest()


def new_secret(prefix: str) -> str:
    """A fresh random secret that names its kind: ``sbx_at_...``, ``sbx_pat_...``."""
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8", "surrogatepass"),
        salt=salt,
        n=n,
        r=r,
        p=p,
        dklen=_SCRYPT_LENGTH,
        maxmem=64 * 1024 * 1024,
    )


def hash_password(password: str) -> str:
    """``scrypt$n$r$p$salt$hash``: a salted scrypt hash of ``password`` that records its cost."""
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, _SCRYPT_N, _SCRYPT_R, _SCRYPT_P)
    return f"{_SCHEME}${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${_b64(salt)}${_b64(digest)}"


@functools.cache
def _nobody() -> str:
    # Checked when the user does not exist, so that a wrong username costs as long as a wrong
    # password and the answer time does not tell which usernames exist.
    return hash_password(secrets.token_urlsafe(16))


def verify_password(password: str, stored: str | None) -> bool:
    """Whether ``password`` matches ``stored`` (None: no such user, checked at the same cost)."""
    scheme, n, r, p, salt, digest = (stored or _nobody()).split("$")
    if scheme != _SCHEME:
        return False
    computed = _scrypt(password, _unb64(salt), int(n), int(r), int(p))
    return stored is not None and hmac.compare_digest(computed, _unb64(digest))
