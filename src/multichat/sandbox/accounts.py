"""Signing in with a username and password: the users' password hashes and the check."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from multichat.sandbox.credentials import hash_password, verify_password
from multichat.sandbox.db import Database
from multichat.sandbox.seed_data import SANDBOX_PASSWORDS

# Every sandbox in a process seeds the same passwords: hash each once (a random salt per process).
_seeded_hash = functools.cache(hash_password)


@dataclass(frozen=True)
class Account:
    """A user who proved their password."""

    user_id: str
    username: str
    name: str


def set_password(db: Database, username: str, password: str) -> bool:
    """Give ``username`` a new password; False when there is no such user."""
    return _store(db, username, hash_password(password), replace=True)


def _store(db: Database, username: str, password_hash: str, *, replace: bool) -> bool:
    verb = "INSERT OR REPLACE" if replace else "INSERT OR IGNORE"
    with db.transaction() as conn:
        row = conn.execute("SELECT id FROM users WHERE username = ?", (username,)).fetchone()
        if row is None:
            return False
        conn.execute(
            f"{verb} INTO user_passwords (user_id, password_hash) VALUES (?, ?)",
            (row["id"], password_hash),
        )
    return True


def seed_passwords(db: Database) -> None:
    """Give the seeded people their documented passwords, unless they already have one."""
    have = {
        row["username"]
        for row in db.query(
            "SELECT u.username FROM users u JOIN user_passwords p ON p.user_id = u.id"
        )
    }
    for username, password in SANDBOX_PASSWORDS.items():
        if username not in have:
            _store(db, username, _seeded_hash(password), replace=False)


def sign_in(db: Database, username: str | None, password: str | None) -> Account | None:
    """The account when ``password`` is ``username``'s; None otherwise, whatever was wrong.

    An unknown user costs as much time as a wrong password, so neither the answer nor its
    timing tells which usernames exist.
    """
    name = (username or "").strip().lstrip("@").lower()
    rows = db.query(
        """SELECT u.id, u.username, u.name, p.password_hash FROM users u
           LEFT JOIN user_passwords p ON p.user_id = u.id WHERE u.username = ?""",
        (name,),
    )
    stored = rows[0]["password_hash"] if rows else None
    if not verify_password(password or "", stored) or not rows:
        return None
    return Account(rows[0]["id"], rows[0]["username"], rows[0]["name"])
