"""Single-use CSRF tokens for the sandbox's HTML forms, each bound to one purpose and its data.

A page stores what its form is about (the device request, the signed-in user) under a random
token and puts the token in a hidden field; the POST takes it back exactly once, so a form
cannot be replayed, forged without its page, or submitted to another form's endpoint.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from multichat.sandbox.credentials import token_hash
from multichat.sandbox.db import Database
from multichat.sandbox.timestamps import now


def issue_form_token(db: Database, purpose: str, ttl: float, data: dict[str, Any]) -> str:
    """Remember ``data`` for one submission of a ``purpose`` form; returns the CSRF token."""
    csrf = secrets.token_urlsafe(32)
    with db.transaction() as conn:
        conn.execute("DELETE FROM form_tokens WHERE expires_at < ?", (now(),))
        conn.execute(
            "INSERT INTO form_tokens (csrf_hash, purpose, data, expires_at) VALUES (?, ?, ?, ?)",
            (token_hash(csrf), purpose, json.dumps(data), now() + ttl),
        )
    return csrf


def take_form_token(db: Database, csrf: str | None, purpose: str) -> dict[str, Any] | None:
    """The data bound to ``csrf`` for a ``purpose`` form, consumed; None if unknown or stale."""
    if not csrf:
        return None
    with db.transaction() as conn:
        row = conn.execute(
            """DELETE FROM form_tokens WHERE csrf_hash = ? AND purpose = ?
               RETURNING data, expires_at""",
            (token_hash(csrf), purpose),
        ).fetchone()
    if row is None or row["expires_at"] < now():
        return None
    data: dict[str, Any] = json.loads(row["data"])
    return data
