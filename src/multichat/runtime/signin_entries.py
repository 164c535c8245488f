"""Sign-in tickets and pending sign-ins: in this process, or in Redis for every instance.

A link made by one instance may be opened on another, and the platform may send the browser
back to a third: with tokens in Redis (``server.token_store``), the entries live there too, each
under ``multichat:NAMESPACE:sign-in:KIND:SHA256(ID)`` with the entry's remaining lifetime as
its expiry, and are taken once (``PTTL`` and ``GETDEL`` in one transaction). An entry names a
person and a provider; the only secret in one, an OAuth sign-in's PKCE verifier, is stored
encrypted with the key the instances share (:mod:`~.shared_proxy`). Without Redis they stay in
this process, the oldest dropped beyond a bound.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

from multichat.runtime.users import UserIdentity

if TYPE_CHECKING:
    from cryptography.fernet import Fernet

    from multichat.runtime.config import WorkspaceConfig
    from multichat.runtime.redis_token_store import RedisPlace

#: What an entry is: a link's ticket, a form or OAuth sign-in under way, a device code shown.
Kind = Literal["ticket", "pending", "device"]


@dataclass(frozen=True)
class DeviceShown:
    """What a device sign-in's page shows, so that a reload on any instance shows it again."""

    user_code: str
    verification_uri: str
    complete: str | None = None
    #: ``""`` while the person has not decided, then ``signed-in`` or ``failed``.
    outcome: str = ""


@dataclass(frozen=True)
class SignInEntry:
    """One person's sign-in to one provider, from the moment (``time.monotonic``) it began."""

    user: UserIdentity
    provider: str
    created: float
    #: SHA-256 of the cookie the browser that began it holds.
    browser_digest: bytes = b""
    tries: int = 0
    #: The PKCE code verifier of an OAuth sign-in (secret until the code is exchanged).
    verifier: str = field(default="", repr=False)
    device: DeviceShown | None = None


class SignInEntries(Protocol):
    """Where entries live; an entry older than the lifetime is never returned."""

    def put(self, kind: Kind, entry_id: str, entry: SignInEntry) -> None:
        """Keep ``entry`` under ``entry_id`` until its lifetime ends (replacing one there)."""

    def take(self, kind: Kind, entry_id: str) -> SignInEntry | None:
        """The entry, removed: a second take of the same id gets ``None``."""

    def peek(self, kind: Kind, entry_id: str) -> SignInEntry | None:
        """The entry, left in place."""


def sign_in_entries(config: WorkspaceConfig, lifetime: float, bound: int) -> SignInEntries:
    """Redis entries when the workspace keeps tokens in Redis, else this process's.

    Raises:
        TokenStoreError: Redis does not answer (one line, its URL masked).
    """
    from multichat.runtime.shared_proxy import agreed_key, shared_key, shared_place

    place = shared_place(config)
    if place is None:
        return MemoryEntries(lifetime, bound)
    return RedisEntries(place, _fernet(shared_key(place) or agreed_key(place)), lifetime)


def _fernet(key: str) -> Fernet:
    from cryptography.fernet import Fernet
    from fastmcp.server.auth.jwt_issuer import derive_jwt_key

    return Fernet(derive_jwt_key(high_entropy_material=key, salt="multichat-sign-in"))


class MemoryEntries:
    """Entries in this process: each kind keeps at most ``bound``, the oldest going first."""

    def __init__(self, lifetime: float, bound: int) -> None:
        """None kept yet."""
        self.lifetime = lifetime
        self.bound = bound
        self._kinds: dict[str, OrderedDict[str, SignInEntry]] = {}
        self._lock = threading.Lock()

    def put(self, kind: Kind, entry_id: str, entry: SignInEntry) -> None:
        """Keep ``entry``; beyond the bound the oldest of its kind is dropped."""
        with self._lock:
            entries = self._kinds.setdefault(kind, OrderedDict())
            entries[entry_id] = entry
            while len(entries) > self.bound:
                entries.popitem(last=False)

    def take(self, kind: Kind, entry_id: str) -> SignInEntry | None:
        """The entry, removed, if it is still within its lifetime."""
        with self._lock:
            entry = self._kinds.setdefault(kind, OrderedDict()).pop(entry_id, None)
        return entry if entry is not None and self._young(entry) else None

    def peek(self, kind: Kind, entry_id: str) -> SignInEntry | None:
        """The entry, left in place, if it is still within its lifetime."""
        with self._lock:
            entry = self._kinds.setdefault(kind, OrderedDict()).get(entry_id)
        return entry if entry is not None and self._young(entry) else None

    def _young(self, entry: SignInEntry) -> bool:
        return time.monotonic() - entry.created <= self.lifetime


class RedisEntries:
    """Entries in Redis, shared by every instance of the workspace; each expires by itself."""

    def __init__(self, place: RedisPlace, fernet: Fernet, lifetime: float) -> None:
        """Keep entries at ``place``, their PKCE verifiers encrypted with ``fernet``."""
        self.place = place
        self.lifetime = lifetime
        self._fernet = fernet

    def _key(self, kind: Kind, entry_id: str) -> str:
        # The id (a link's ticket, a form's id) is as good as a password while it lives.
        digest = hashlib.sha256(entry_id.encode("utf-8", "surrogatepass")).hexdigest()
        return self.place.key("sign-in", kind, digest)

    def put(self, kind: Kind, entry_id: str, entry: SignInEntry) -> None:
        """``SET`` with the entry's remaining lifetime as its expiry (an old one is not kept)."""
        remaining = self.lifetime - (time.monotonic() - entry.created)
        if remaining <= 0:
            return
        key = self._key(kind, entry_id)
        payload = json.dumps(self._encode(entry), sort_keys=True)
        client = self.place.client
        milliseconds = max(1, int(remaining * 1000))
        self.place.call(
            lambda: client.set(key, payload, px=milliseconds), about=f"the sign-in at {key}"
        )

    def take(self, kind: Kind, entry_id: str) -> SignInEntry | None:
        """``PTTL`` and ``GETDEL`` in one transaction: of two instances, one gets it."""
        return self._read(kind, entry_id, remove=True)

    def peek(self, kind: Kind, entry_id: str) -> SignInEntry | None:
        """``PTTL`` and ``GET`` in one transaction."""
        return self._read(kind, entry_id, remove=False)

    def _read(self, kind: Kind, entry_id: str, *, remove: bool) -> SignInEntry | None:
        key = self._key(kind, entry_id)

        def read() -> list[Any]:
            pipe = self.place.client.pipeline(transaction=True)
            pipe.pttl(key)
            if remove:
                pipe.getdel(key)
            else:
                pipe.get(key)
            return list(pipe.execute())

        left, raw = self.place.call(read, about=f"the sign-in at {key}")
        if raw is None or left < 0:
            return None
        # Clocks of two machines never meet: the age is what Redis says is left of the lifetime.
        created = time.monotonic() - max(0.0, self.lifetime - left / 1000)
        try:
            return self._decode(json.loads(raw), created)
        except (ValueError, KeyError, TypeError):
            return None  # not ours, or written with another key: as good as gone

    def _encode(self, entry: SignInEntry) -> dict[str, Any]:
        verifier = self._fernet.encrypt(entry.verifier.encode()).decode() if entry.verifier else ""
        device = entry.device
        return {
            "issuer": entry.user.issuer,
            "subject": entry.user.subject,
            "name": entry.user.name,
            "provider": entry.provider,
            "browser": entry.browser_digest.hex(),
            "tries": entry.tries,
            "verifier": verifier,
            "device": None if device is None else dataclasses.asdict(device),
        }

    def _decode(self, data: dict[str, Any], created: float) -> SignInEntry:
        from cryptography.fernet import InvalidToken

        verifier = ""
        if data["verifier"]:
            try:
                verifier = self._fernet.decrypt(data["verifier"].encode()).decode()
            except InvalidToken:
                raise ValueError("the verifier was encrypted with another key") from None
        device = data.get("device")
        return SignInEntry(
            user=UserIdentity(str(data["issuer"]), str(data["subject"]), str(data["name"])),
            provider=str(data["provider"]),
            created=created,
            browser_digest=bytes.fromhex(data["browser"]),
            tries=int(data["tries"]),
            verifier=verifier,
            device=DeviceShown(**device) if isinstance(device, dict) else None,
        )
