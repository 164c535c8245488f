"""Rows of the database as the API's JSON objects; messages are loaded a page at a time."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Sequence
from typing import Any

from multichat.sandbox.errors import ApiError
from multichat.sandbox.timestamps import to_iso

_MESSAGE_ID = re.compile(r"^M([1-9][0-9]{0,17})$")
MENTION = re.compile(r"(?<![\w@])@([A-Za-z0-9_]+(?:[.\-][A-Za-z0-9_]+)*)")


def message_id(seq: int) -> str:
    """The public id of the message stored as row ``seq``."""
    return f"M{seq}"


def message_seq(public_id: str) -> int:
    """The row of a public message id.

    Raises:
        ApiError: not a message id (404 not_found, as for a message that does not exist).
    """
    match = _MESSAGE_ID.match(public_id)
    if not match:
        raise ApiError(404, "not_found", f"no message {public_id!r}")
    return int(match.group(1))


def mentioned_usernames(text: str) -> list[str]:
    """Lowercased ``@username`` mentions in ``text``, in order, without repeats."""
    names: list[str] = []
    for match in MENTION.finditer(text):
        name = match.group(1).lower()
        if name not in names:
            names.append(name)
    return names


def user_record(row: sqlite3.Row) -> dict[str, Any]:
    """A user object."""
    return {
        "id": row["id"],
        "username": row["username"],
        "name": row["name"],
        "email": row["email"],
        "is_bot": bool(row["is_bot"]),
    }


def _chunks(values: Sequence[int], size: int = 500) -> list[Sequence[int]]:
    return [values[i : i + size] for i in range(0, len(values), size)]


def load_messages(conn: sqlite3.Connection, seqs: Sequence[int]) -> list[dict[str, Any]]:
    """Message objects for ``seqs`` in that order (missing rows are skipped), in three queries."""
    if not seqs:
        return []
    rows: dict[int, sqlite3.Row] = {}
    reactions: dict[int, dict[str, list[str]]] = {}
    mentions: dict[int, list[str]] = {}
    for chunk in _chunks(list(seqs)):
        marks = ",".join("?" * len(chunk))
        for row in conn.execute(
            f"""SELECT m.seq, m.channel_id, c.name AS channel_name, m.user_id, u.username,
                       u.name AS user_name, m.text, m.created_at, m.edited_at, m.thread_seq,
                       (SELECT COUNT(*) FROM messages r WHERE r.thread_seq = m.seq) AS replies
                FROM messages m JOIN users u ON u.id = m.user_id
                JOIN channels c ON c.id = m.channel_id
                WHERE m.seq IN ({marks})""",  # noqa: S608 - only placeholders are interpolated
            chunk,
        ):
            rows[row["seq"]] = row
        for row in conn.execute(
            f"""SELECT message_seq, name, user_id FROM reactions WHERE message_seq IN ({marks})
                ORDER BY message_seq, created_at, user_id""",  # noqa: S608
            chunk,
        ):
            reactions.setdefault(row[0], {}).setdefault(row[1], []).append(row[2])
        for row in conn.execute(
            f"""SELECT message_seq, user_id FROM mentions WHERE message_seq IN ({marks})
                ORDER BY message_seq, user_id""",  # noqa: S608
            chunk,
        ):
            mentions.setdefault(row[0], []).append(row[1])
    return [
        _message_record(rows[seq], reactions.get(seq, {}), mentions.get(seq, []))
        for seq in seqs
        if seq in rows
    ]


def _message_record(
    row: sqlite3.Row, reactions: dict[str, list[str]], mentions: list[str]
) -> dict[str, Any]:
    thread = row["thread_seq"]
    edited = row["edited_at"]
    return {
        "id": message_id(row["seq"]),
        "channel_id": row["channel_id"],
        "channel_name": row["channel_name"],
        "user": {"id": row["user_id"], "username": row["username"], "name": row["user_name"]},
        "text": row["text"],
        "created_at": to_iso(row["created_at"]),
        "edited_at": to_iso(edited) if edited is not None else None,
        "thread_id": message_id(thread) if thread is not None else None,
        "reply_count": row["replies"],
        "reactions": [
            {"name": name, "count": len(users), "users": users} for name, users in reactions.items()
        ],
        "mentions": mentions,
    }
