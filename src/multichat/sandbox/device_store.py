"""The device authorization grant (RFC 8628): device codes, user codes, the decision, polling.

A device asks for a code pair; the person types the short user code on ``/device``, signs in
and allows or denies; meanwhile the device polls the token endpoint with the device code, which
gives tokens once. Both codes are stored as SHA-256 digests only.
"""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from multichat.sandbox.credentials import new_secret, token_hash
from multichat.sandbox.db import Database
from multichat.sandbox.errors import OAuthError
from multichat.sandbox.oauth_store import Client, issue_tokens
from multichat.sandbox.scopes import format_scopes
from multichat.sandbox.timestamps import now

DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
# RFC 8628 §6.1: consonants only (no words can be spelled, nothing looks like 0 or 1), 8 of them
# for 20**8 ≈ 2.6e10 codes, shown as two groups of four.
USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"
USER_CODE_LENGTH = 8
# RFC 8628 §3.5: after ``slow_down`` the interval grows by 5 seconds for every later request.
SLOW_DOWN_STEP = 5


@dataclass(frozen=True)
class DeviceRequest:
    """A device's sign-in request, as the verification page and the token endpoint see it."""

    device_hash: str
    client_id: str
    scopes: tuple[str, ...]
    status: str
    user_id: str | None
    expires_at: float

    @property
    def awaiting_decision(self) -> bool:
        """Whether a person may still allow or deny it."""
        return self.status == "pending" and self.expires_at > now()


def _request(row: sqlite3.Row) -> DeviceRequest:
    return DeviceRequest(
        device_hash=row["device_hash"],
        client_id=row["client_id"],
        scopes=tuple(row["scope"].split()),
        status=row["status"],
        user_id=row["user_id"],
        expires_at=row["expires_at"],
    )


def normalize_user_code(text: str | None) -> str | None:
    """The user code in ``text`` (any case, dashes and spaces ignored), or None if it is not one."""
    letters = "".join(char for char in (text or "") if char not in "- \t").upper()
    if len(letters) != USER_CODE_LENGTH or any(c not in USER_CODE_ALPHABET for c in letters):
        return None
    return letters


def format_user_code(code: str) -> str:
    """``BCDF-GHJK``: the way a user code is shown to people."""
    half = USER_CODE_LENGTH // 2
    return f"{code[:half]}-{code[half:]}"


def start_device_authorization(
    db: Database, client: Client, scopes: Sequence[str], *, ttl: float, interval: int
) -> tuple[str, str]:
    """A new device code and user code (formatted) for ``client``, valid for ``ttl`` seconds."""
    device_code = new_secret("sbx_dc")
    with db.transaction() as conn:
        conn.execute("DELETE FROM device_codes WHERE expires_at < ?", (now() - 24 * 3600,))
        while True:
            user_code = "".join(secrets.choice(USER_CODE_ALPHABET) for _ in range(USER_CODE_LENGTH))
            taken = conn.execute(
                "SELECT 1 FROM device_codes WHERE user_code_hash = ?", (token_hash(user_code),)
            ).fetchone()
            if not taken:
                break
        conn.execute(
            """INSERT INTO device_codes (device_hash, user_code_hash, client_id, scope,
               poll_interval, expires_at) VALUES (?, ?, ?, ?, ?, ?)""",
            (
                token_hash(device_code),
                token_hash(user_code),
                client.client_id,
                format_scopes(list(scopes)),
                interval,
                now() + ttl,
            ),
        )
    return device_code, format_user_code(user_code)


def find_by_user_code(db: Database, user_code: str | None) -> DeviceRequest | None:
    """The request with this user code (as people type it), in whatever state; None if none."""
    code = normalize_user_code(user_code)
    if code is None:
        return None
    rows = db.query("SELECT * FROM device_codes WHERE user_code_hash = ?", (token_hash(code),))
    return _request(rows[0]) if rows else None


def find_by_hash(db: Database, device_hash: str) -> DeviceRequest | None:
    """The request whose device code has the digest ``device_hash``; None if none."""
    rows = db.query("SELECT * FROM device_codes WHERE device_hash = ?", (device_hash,))
    return _request(rows[0]) if rows else None


def decide(db: Database, device_hash: str, user_id: str | None, *, allow: bool) -> bool:
    """Record ``user_id``'s Allow or Deny; False when the request no longer awaits a decision."""
    with db.transaction() as conn:
        changed = conn.execute(
            """UPDATE device_codes SET status = ?, user_id = ?
               WHERE device_hash = ? AND status = 'pending' AND expires_at > ?""",
            ("approved" if allow else "denied", user_id, device_hash, now()),
        ).rowcount
    return changed > 0


def expire_now(db: Database, device_hash: str) -> bool:
    """End a request's lifetime at once (a test knob); False when it had already ended."""
    with db.transaction() as conn:
        changed = conn.execute(
            "UPDATE device_codes SET expires_at = ? WHERE device_hash = ? AND expires_at > ?",
            (now(), device_hash, now()),
        ).rowcount
    return changed > 0


def poll(
    db: Database,
    client: Client,
    device_code: str | None,
    *,
    token_ttl: float,
    refresh_ttl: float,
) -> dict[str, Any]:
    """The token endpoint's answer to a device polling with ``device_code`` (RFC 8628 §3.4-3.5).

    Tokens once the person allowed (the code is then spent); otherwise an error telling the
    device to keep polling, to slow down, or to stop.

    Raises:
        OAuthError: ``authorization_pending``, ``slow_down``, ``access_denied``,
            ``expired_token``, or ``invalid_grant`` for an unknown or spent code.
    """
    if not device_code:
        raise OAuthError("invalid_request", "device_code is required")
    error: OAuthError | None = None
    with db.transaction() as conn:
        row = conn.execute(
            "SELECT * FROM device_codes WHERE device_hash = ?", (token_hash(device_code),)
        ).fetchone()
        moment = now()
        if row is None or row["client_id"] != client.client_id:
            error = OAuthError("invalid_grant", "unknown device code")
        elif row["status"] == "used":
            error = OAuthError("invalid_grant", "the device code was already used")
        elif row["status"] == "denied":
            error = OAuthError("access_denied", "the user denied access")
        elif row["expires_at"] <= moment:
            error = OAuthError("expired_token", "the device code has expired; start again")
        elif row["status"] == "approved":
            conn.execute(
                "UPDATE device_codes SET status = 'used' WHERE device_hash = ?",
                (row["device_hash"],),
            )
        else:
            interval, last = row["poll_interval"], row["last_poll_at"]
            if last is not None and moment - last < interval:
                interval += SLOW_DOWN_STEP
                error = OAuthError(
                    "slow_down", f"polling too fast: wait {interval} seconds between requests"
                )
            else:
                error = OAuthError(
                    "authorization_pending",
                    "waiting for the user to enter the code and allow access",
                )
            conn.execute(
                "UPDATE device_codes SET poll_interval = ?, last_poll_at = ? WHERE device_hash = ?",
                (interval, moment, row["device_hash"]),
            )
    if error is not None:
        raise error
    return issue_tokens(
        db,
        client.client_id,
        row["user_id"],
        row["scope"].split(),
        token_ttl=token_ttl,
        refresh_ttl=refresh_ttl,
    )
