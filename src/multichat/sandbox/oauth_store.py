"""Clients, consent requests, authorization codes and tokens of the sandbox's OAuth server.

Only SHA-256 hashes of secrets, codes and tokens are stored. Tokens issued from one
authorization code (or one password or device sign-in) share a ``grant_id``: replaying the code
or revoking the refresh token ends the whole grant. Personal access tokens
(:mod:`multichat.sandbox.personal_tokens`) are accepted wherever an access token is.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from multichat.sandbox import personal_tokens
from multichat.sandbox.accounts import sign_in
from multichat.sandbox.credentials import new_secret, token_hash
from multichat.sandbox.db import Database, open_database
from multichat.sandbox.errors import OAuthError
from multichat.sandbox.scopes import ALL_SCOPES, format_scopes, parse_scopes
from multichat.sandbox.timestamps import now

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
_PKCE_VALUE = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")


@dataclass(frozen=True)
class Client:
    """A registered OAuth client; public when it has no secret."""

    client_id: str
    name: str
    secret_hash: str | None
    redirect_uris: tuple[str, ...]
    scopes: tuple[str, ...]

    @property
    def is_public(self) -> bool:
        """Whether the client has no secret (it must use PKCE, as every client here does)."""
        return self.secret_hash is None

    def accepts_redirect(self, uri: str) -> bool:
        """Whether ``uri`` is registered (loopback URIs match on any port, RFC 8252 §7.3)."""
        return any(redirect_matches(registered, uri) for registered in self.redirect_uris)


@dataclass(frozen=True)
class Consent:
    """An authorization request shown on the consent page, waiting for Allow or Deny."""

    client_id: str
    user_id: str
    redirect_uri: str
    scope: str
    state: str | None
    code_challenge: str


@dataclass(frozen=True)
class AccessGrant:
    """What a valid access token lets its bearer do."""

    user_id: str
    client_id: str
    scopes: frozenset[str]


def redirect_matches(registered: str, requested: str) -> bool:
    """Exact match, except that loopback ``http`` URIs match whatever their port."""
    if registered == requested:
        return True
    try:
        want, got = urlsplit(registered), urlsplit(requested)
        _ = got.port  # raises ValueError on a malformed port
    except ValueError:
        return False
    return (
        want.scheme == got.scheme == "http"
        and want.hostname in LOOPBACK_HOSTS
        and got.hostname in LOOPBACK_HOSTS
        and got.username is None
        and got.password is None
        and (want.path or "/") == (got.path or "/")
        and want.query == got.query
        and not got.fragment
    )


def register_client(
    db: Database | Path | str,
    client_id: str,
    name: str,
    redirect_uris: Sequence[str],
    secret: str | None = None,
    scopes: Sequence[str] = ALL_SCOPES,
) -> None:
    """Register (or replace) an OAuth client; with ``secret=None`` it is a public client."""
    database = open_database(db)
    with database.transaction() as conn:
        conn.execute(
            """INSERT OR REPLACE INTO oauth_clients
               (client_id, name, secret_hash, redirect_uris, scopes) VALUES (?, ?, ?, ?, ?)""",
            (
                client_id,
                name,
                token_hash(secret) if secret is not None else None,
                json.dumps(list(redirect_uris)),
                json.dumps(list(scopes)),
            ),
        )


def get_client(db: Database, client_id: str | None) -> Client | None:
    """The registered client ``client_id``, or None."""
    if not client_id:
        return None
    rows = db.query("SELECT * FROM oauth_clients WHERE client_id = ?", (client_id,))
    if not rows:
        return None
    row = rows[0]
    return Client(
        client_id=row["client_id"],
        name=row["name"],
        secret_hash=row["secret_hash"],
        redirect_uris=tuple(json.loads(row["redirect_uris"])),
        scopes=tuple(json.loads(row["scopes"])),
    )


def authenticate_client(db: Database, client_id: str | None, secret: str | None) -> Client:
    """The client making a token request; a confidential one must present its secret.

    Raises:
        OAuthError: unknown client or wrong secret (401 invalid_client).
    """
    client = get_client(db, client_id)
    if client is None:
        raise OAuthError("invalid_client", "unknown client_id", 401)
    if client.secret_hash is not None and not (
        secret and hmac.compare_digest(client.secret_hash, token_hash(secret))
    ):
        raise OAuthError("invalid_client", "client authentication failed", 401)
    return client


def requested_scopes(client: Client, scope: str | None) -> list[str]:
    """The scopes a token request asks for (the client's own when it names none).

    Raises:
        OAuthError: a scope that does not exist or that the client may not ask for.
    """
    scopes = parse_scopes(scope) or list(client.scopes)
    unknown = [item for item in scopes if item not in ALL_SCOPES or item not in client.scopes]
    if unknown:
        raise OAuthError("invalid_scope", f"unknown or not allowed scope: {' '.join(unknown)}")
    return scopes


def valid_pkce_value(value: str | None) -> bool:
    """Whether ``value`` has the form of a PKCE verifier or S256 challenge (RFC 7636 §4.1)."""
    return bool(value and _PKCE_VALUE.match(value))


def s256(verifier: str) -> str:
    """The S256 code challenge of ``verifier``."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def create_consent(db: Database, consent: Consent, ttl: float) -> str:
    """Remember an authorization request; returns the single-use CSRF token of its form."""
    csrf = secrets.token_urlsafe(32)
    with db.transaction() as conn:
        conn.execute("DELETE FROM oauth_consents WHERE expires_at < ?", (now(),))
        conn.execute(
            """INSERT INTO oauth_consents (csrf_hash, client_id, user_id, redirect_uri, scope,
               state, code_challenge, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
            (
                token_hash(csrf),
                consent.client_id,
                consent.user_id,
                consent.redirect_uri,
                consent.scope,
                consent.state,
                consent.code_challenge,
                now() + ttl,
            ),
        )
    return csrf


def take_consent(db: Database, csrf: str | None) -> Consent | None:
    """The request bound to ``csrf``, consumed; None if unknown, used or expired."""
    if not csrf:
        return None
    with db.transaction() as conn:
        row = conn.execute(
            "DELETE FROM oauth_consents WHERE csrf_hash = ? RETURNING *", (token_hash(csrf),)
        ).fetchone()
    if row is None or row["expires_at"] < now():
        return None
    return Consent(
        client_id=row["client_id"],
        user_id=row["user_id"],
        redirect_uri=row["redirect_uri"],
        scope=row["scope"],
        state=row["state"],
        code_challenge=row["code_challenge"],
    )


def create_code(db: Database, consent: Consent, ttl: float) -> str:
    """An authorization code for an allowed consent, valid for ``ttl`` seconds."""
    code = new_secret("sbx_code")
    with db.transaction() as conn:
        conn.execute(
            """INSERT INTO oauth_codes (code_hash, client_id, user_id, redirect_uri, scope,
               code_challenge, grant_id, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
            (
                token_hash(code),
                consent.client_id,
                consent.user_id,
                consent.redirect_uri,
                consent.scope,
                consent.code_challenge,
                secrets.token_hex(16),
                now() + ttl,
            ),
        )
    return code


def issue_tokens(
    db: Database | Path | str,
    client_id: str,
    user_id: str,
    scopes: Sequence[str],
    *,
    token_ttl: float = 3600,
    refresh_ttl: float = 30 * 24 * 3600,
    grant_id: str | None = None,
) -> dict[str, Any]:
    """Issue an access and a refresh token; returns the token endpoint's JSON response."""
    database = open_database(db)
    access, refresh = new_secret("sbx_at"), new_secret("sbx_rt")
    scope = format_scopes(list(scopes))
    grant = grant_id or secrets.token_hex(16)
    issued = now()
    with database.transaction() as conn:
        conn.executemany(
            """INSERT INTO oauth_tokens (token_hash, kind, client_id, user_id, scope, grant_id,
               expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)""",
            [
                (
                    token_hash(access),
                    "access",
                    client_id,
                    user_id,
                    scope,
                    grant,
                    issued + token_ttl,
                ),
                (
                    token_hash(refresh),
                    "refresh",
                    client_id,
                    user_id,
                    scope,
                    grant,
                    issued + refresh_ttl,
                ),
            ],
        )
    return {
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": int(token_ttl),
        "refresh_token": refresh,
        "scope": scope,
    }


def redeem_code(
    db: Database,
    client: Client,
    code: str | None,
    redirect_uri: str | None,
    verifier: str | None,
    *,
    token_ttl: float,
    refresh_ttl: float,
) -> dict[str, Any]:
    """Exchange an authorization code for tokens; a code is spent by its first presentation.

    Raises:
        OAuthError: missing, unknown, spent, expired or mismatched code, or failed PKCE.
    """
    if not code:
        raise OAuthError("invalid_request", "code is required")
    with db.transaction() as conn:
        row = conn.execute(
            "SELECT * FROM oauth_codes WHERE code_hash = ?", (token_hash(code),)
        ).fetchone()
        if row is not None:
            conn.execute("UPDATE oauth_codes SET used = 1 WHERE code_hash = ?", (row["code_hash"],))
            if row["used"]:
                # RFC 6749 §4.1.2: a replayed code revokes what it was exchanged for.
                conn.execute(
                    "UPDATE oauth_tokens SET revoked = 1 WHERE grant_id = ?", (row["grant_id"],)
                )
    if row is None or row["client_id"] != client.client_id:
        raise OAuthError("invalid_grant", "unknown authorization code")
    if row["used"]:
        raise OAuthError("invalid_grant", "the authorization code was already used")
    if row["expires_at"] <= now():
        raise OAuthError("invalid_grant", "the authorization code has expired")
    if redirect_uri != row["redirect_uri"]:
        raise OAuthError("invalid_grant", "redirect_uri does not match the authorization request")
    if verifier is None or not valid_pkce_value(verifier):
        raise OAuthError("invalid_grant", "a valid code_verifier (PKCE) is required")
    if not hmac.compare_digest(s256(verifier), row["code_challenge"]):
        raise OAuthError("invalid_grant", "code_verifier does not match the code_challenge")
    return issue_tokens(
        db,
        client.client_id,
        row["user_id"],
        row["scope"].split(),
        token_ttl=token_ttl,
        refresh_ttl=refresh_ttl,
        grant_id=row["grant_id"],
    )


def rotate_refresh_token(
    db: Database,
    client: Client,
    refresh_token: str | None,
    scope: Sequence[str] | None,
    *,
    token_ttl: float,
    refresh_ttl: float,
) -> dict[str, Any]:
    """Spend a refresh token for a new access and refresh token (the old one stops working).

    Raises:
        OAuthError: missing, unknown, spent, revoked or expired refresh token, or wider scope.
    """
    if not refresh_token:
        raise OAuthError("invalid_request", "refresh_token is required")
    with db.transaction() as conn:
        row = conn.execute(
            "SELECT * FROM oauth_tokens WHERE token_hash = ? AND kind = 'refresh'",
            (token_hash(refresh_token),),
        ).fetchone()
        usable = (
            row is not None
            and row["client_id"] == client.client_id
            and not row["revoked"]
            and row["expires_at"] > now()
        )
        if usable:
            conn.execute(
                "UPDATE oauth_tokens SET revoked = 1 WHERE token_hash = ?", (row["token_hash"],)
            )
    if row is None or row["client_id"] != client.client_id:
        raise OAuthError("invalid_grant", "unknown refresh token")
    if row["revoked"]:
        raise OAuthError("invalid_grant", "the refresh token was already used or was revoked")
    if not usable:
        raise OAuthError("invalid_grant", "the refresh token has expired")
    granted = row["scope"].split()
    wanted = list(scope) if scope else granted
    if not set(wanted) <= set(granted):
        raise OAuthError("invalid_scope", "a refresh cannot widen the granted scopes")
    return issue_tokens(
        db,
        client.client_id,
        row["user_id"],
        wanted,
        token_ttl=token_ttl,
        refresh_ttl=refresh_ttl,
        grant_id=row["grant_id"],
    )


def grant_password(
    db: Database,
    client: Client,
    username: str | None,
    password: str | None,
    scope: str | None,
    *,
    token_ttl: float,
    refresh_ttl: float,
) -> dict[str, Any]:
    """Tokens for a user's own username and password (RFC 6749 §4.3).

    Raises:
        OAuthError: missing fields, a scope the client may not have, or a wrong username or
            password (one message for both, so that usernames cannot be probed).
    """
    if not username or not password:
        raise OAuthError("invalid_request", "username and password are required")
    scopes = requested_scopes(client, scope)
    account = sign_in(db, username, password)
    if account is None:
        raise OAuthError("invalid_grant", "wrong username or password")
    return issue_tokens(
        db,
        client.client_id,
        account.user_id,
        scopes,
        token_ttl=token_ttl,
        refresh_ttl=refresh_ttl,
    )


def verify_access_token(db: Database, token: str) -> AccessGrant | None:
    """The grant behind a live access token or personal access token; None if not usable."""
    rows = db.query(
        """SELECT user_id, client_id, scope FROM oauth_tokens WHERE token_hash = ?
           AND kind = 'access' AND revoked = 0 AND expires_at > ?""",
        (token_hash(token), now()),
    )
    if rows:
        row = rows[0]
        return AccessGrant(row["user_id"], row["client_id"], frozenset(row["scope"].split()))
    personal = personal_tokens.find_personal_token(db, token)
    if personal is None or not personal.usable:
        return None
    return AccessGrant(
        personal.user_id, personal_tokens.PERSONAL_TOKEN_CLIENT, frozenset(personal.scopes)
    )


def token_problem(db: Database, token: str) -> str:
    """Why ``token`` does not let its bearer in, in words (for the 401 of an API call)."""
    personal = personal_tokens.find_personal_token(db, token)
    if personal is not None:
        if personal.revoked:
            return "this personal access token was revoked; make a new one at /settings/tokens"
        return "this personal access token has expired; make a new one at /settings/tokens"
    rows = db.query(
        "SELECT kind, revoked, expires_at FROM oauth_tokens WHERE token_hash = ?",
        (token_hash(token),),
    )
    if not rows:
        return "the access token is not one this sandbox issued"
    if rows[0]["kind"] == "refresh":
        return "this is a refresh token: send the access token, or refresh at /oauth/token"
    if rows[0]["revoked"]:
        return "the access token was revoked; sign in again"
    return "the access token has expired; refresh it or sign in again"


def revoke_tokens_of(db: Database, user_id: str) -> int:
    """Revoke every live access, refresh and personal token of ``user_id``; how many."""
    with db.transaction() as conn:
        count = conn.execute(
            "UPDATE oauth_tokens SET revoked = 1 WHERE user_id = ? AND revoked = 0", (user_id,)
        ).rowcount
    return int(count) + personal_tokens.revoke_personal_tokens_of(db, user_id)


def revoke_token(db: Database, token: str, client_id: str | None) -> None:
    """Revoke ``token`` (RFC 7009); a refresh token takes its whole grant with it.

    A personal access token is revoked by whoever presents it (no client issued it). A token of
    another client, or an unknown token, is left alone without an error.
    """
    with db.transaction() as conn:
        row = conn.execute(
            "SELECT kind, client_id, grant_id FROM oauth_tokens WHERE token_hash = ?",
            (token_hash(token),),
        ).fetchone()
        if row is None or (client_id and row["client_id"] != client_id):
            pass
        elif row["kind"] == "refresh":
            conn.execute(
                "UPDATE oauth_tokens SET revoked = 1 WHERE grant_id = ?", (row["grant_id"],)
            )
        else:
            conn.execute(
                "UPDATE oauth_tokens SET revoked = 1 WHERE token_hash = ?", (token_hash(token),)
            )
    if row is None:
        personal_tokens.revoke_personal_token(db, token)
