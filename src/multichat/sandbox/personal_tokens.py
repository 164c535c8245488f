"""Personal access tokens: Bearer tokens that people make for themselves on ``/settings/tokens``.

A token carries the scopes chosen when it was made and never expires unless a lifetime was
given. Only its SHA-256 digest is stored; the value is shown once. Revoking it (``/oauth/revoke``
or ``/admin``) is final.
"""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

from multichat.sandbox.credentials import new_secret, token_hash
from multichat.sandbox.db import Database
from multichat.sandbox.scopes import ALL_SCOPES, format_scopes
from multichat.sandbox.seed_data import SANDBOX_PERSONAL_TOKENS
from multichat.sandbox.timestamps import now

# The client a personal token's calls are reported to come from (no OAuth client made it).
PERSONAL_TOKEN_CLIENT = "personal-access-token"  # noqa: S105 - a name, not a secret
SEEDED_NOTE = "seeded for tests"
_SELECT = """SELECT t.*, u.username FROM personal_tokens t JOIN users u ON u.id = t.user_id"""


@dataclass(frozen=True)
class PersonalToken:
    """What is known of a personal access token; never its value."""

    id: str
    user_id: str
    username: str
    note: str
    scopes: tuple[str, ...]
    created_at: float
    expires_at: float | None
    revoked: bool

    @property
    def expired(self) -> bool:
        """Whether its lifetime is over."""
        return self.expires_at is not None and self.expires_at <= now()

    @property
    def usable(self) -> bool:
        """Whether it still lets its bearer in."""
        return not self.revoked and not self.expired


def _token(row: sqlite3.Row) -> PersonalToken:
    return PersonalToken(
        id=row["id"],
        user_id=row["user_id"],
        username=row["username"],
        note=row["note"],
        scopes=tuple(row["scope"].split()),
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        revoked=bool(row["revoked"]),
    )


def _insert(
    conn: sqlite3.Connection,
    token_id: str,
    value: str,
    user_id: str,
    scopes: Sequence[str],
    note: str,
    expires_at: float | None,
) -> None:
    scope = format_scopes(list(scopes))
    conn.execute(
        """INSERT OR IGNORE INTO personal_tokens
           (id, token_hash, user_id, note, scope, created_at, expires_at)
           VALUES (?, ?, ?, ?, ?, ?, ?)""",
        (token_id, token_hash(value), user_id, note, scope, now(), expires_at),
    )


def create_personal_token(
    db: Database, user_id: str, scopes: Sequence[str], note: str, expires_in: float | None = None
) -> tuple[str, PersonalToken]:
    """Make a token for ``user_id``; returns its value (to show once) and what is stored."""
    value, token_id = new_secret("sbx_pat"), f"pat_{secrets.token_hex(6)}"
    expires_at = now() + expires_in if expires_in is not None else None
    with db.transaction() as conn:
        _insert(conn, token_id, value, user_id, scopes, note, expires_at)
        row = conn.execute(f"{_SELECT} WHERE t.id = ?", (token_id,)).fetchone()
    return value, _token(row)


def find_personal_token(db: Database, value: str) -> PersonalToken | None:
    """The token whose value is ``value``, usable or not; None if there is none."""
    rows = db.query(f"{_SELECT} WHERE t.token_hash = ?", (token_hash(value),))
    return _token(rows[0]) if rows else None


def list_personal_tokens(db: Database, username: str | None = None) -> list[PersonalToken]:
    """Every personal token (of ``username`` only, if given), oldest first."""
    if username is None:
        rows = db.query(f"{_SELECT} ORDER BY t.created_at, t.id")
    else:
        rows = db.query(
            f"{_SELECT} WHERE u.username = ? ORDER BY t.created_at, t.id",
            (username,),
        )
    return [_token(row) for row in rows]


def revoke_personal_token(db: Database, value: str) -> bool:
    """Revoke the token whose value is ``value``; False when there is none."""
    with db.transaction() as conn:
        changed = conn.execute(
            "UPDATE personal_tokens SET revoked = 1 WHERE token_hash = ?", (token_hash(value),)
        ).rowcount
    return changed > 0


def revoke_personal_token_by_id(db: Database, token_id: str) -> PersonalToken | None:
    """Revoke the token with id ``token_id``; None when there is none."""
    with db.transaction() as conn:
        conn.execute("UPDATE personal_tokens SET revoked = 1 WHERE id = ?", (token_id,))
        row = conn.execute(f"{_SELECT} WHERE t.id = ?", (token_id,)).fetchone()
    return _token(row) if row is not None else None


def revoke_personal_tokens_of(db: Database, user_id: str) -> int:
    """Revoke every live personal token of ``user_id``; how many were revoked."""
    with db.transaction() as conn:
        return conn.execute(
            "UPDATE personal_tokens SET revoked = 1 WHERE user_id = ? AND revoked = 0", (user_id,)
        ).rowcount


def seed_personal_tokens(db: Database) -> None:
    """Store the documented seeded tokens (every scope, no expiry) unless they already exist.

    A seeded token that was revoked stays revoked in that database.
    """
    with db.transaction() as conn:
        users = {row[1]: row[0] for row in conn.execute("SELECT id, username FROM users")}
        for username, value in SANDBOX_PERSONAL_TOKENS.items():
            if username in users:
                _insert(
                    conn, f"pat_seeded_{username}", value, users[username], ALL_SCOPES,
                    SEEDED_NOTE, None,
                )  # fmt: skip
