"""The chat data behind the REST API: who sees what, and every read and write as SQL.

A user sees every public channel and the private and direct channels they are a member of;
anything in a channel they cannot see is reported as not found.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Sequence
from typing import Any

from multichat.sandbox.errors import ApiError
from multichat.sandbox.records import mentioned_usernames, message_id
from multichat.sandbox.timestamps import now, to_iso

_VISIBLE = (
    "(c.kind = 'public' OR EXISTS (SELECT 1 FROM members v"
    " WHERE v.channel_id = c.id AND v.user_id = :me))"
)
_WORD = re.compile(r"\w+", re.UNICODE)
#: A search takes at most this many words: FTS5's time grows with the square of the words
#: (6,000 words took 17.6 s), and no person's query needs more.
MAX_SEARCH_WORDS = 16


def _not_found(what: str) -> ApiError:
    return ApiError(404, "not_found", f"no {what}")


def list_users(conn: sqlite3.Connection, after: str | None, limit: int) -> list[sqlite3.Row]:
    """Users ordered by id, after id ``after``; ``limit`` rows at most."""
    return conn.execute(
        "SELECT * FROM users WHERE id > ? ORDER BY id LIMIT ?", (after or "", limit)
    ).fetchall()


def get_user(conn: sqlite3.Connection, user_id: str) -> sqlite3.Row:
    """The user ``user_id``; raises ApiError (404) when there is none."""
    row = conn.execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone()
    if row is None:
        raise _not_found(f"user {user_id!r}")
    return row  # type: ignore[no-any-return]


def _channel_query(where: str) -> str:
    return f"""
        SELECT c.id, c.name, c.kind, c.topic,
               EXISTS (SELECT 1 FROM members m WHERE m.channel_id = c.id AND m.user_id = :me)
                   AS is_member,
               (SELECT COUNT(*) FROM members m WHERE m.channel_id = c.id) AS member_count,
               (SELECT x.created_at FROM messages x WHERE x.channel_id = c.id
                ORDER BY x.seq DESC LIMIT 1) AS last_at
        FROM channels c WHERE {_VISIBLE} AND {where}"""  # noqa: S608 - fixed SQL fragments


def _channel_record(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "kind": row["kind"],
        "topic": row["topic"],
        "is_member": bool(row["is_member"]),
        "member_count": row["member_count"],
        "last_message_at": to_iso(row["last_at"]) if row["last_at"] is not None else None,
    }


def list_channels(
    conn: sqlite3.Connection, me: str, kinds: Sequence[str], after: str | None, limit: int
) -> list[dict[str, Any]]:
    """Channels ``me`` can see, of the given kinds, ordered by id after ``after``."""
    marks = ",".join(f":k{i}" for i in range(len(kinds)))
    params: dict[str, Any] = {"me": me, "after": after or "", "limit": limit}
    params.update({f"k{i}": kind for i, kind in enumerate(kinds)})
    sql = _channel_query(f"c.kind IN ({marks}) AND c.id > :after") + " ORDER BY c.id LIMIT :limit"
    return [_channel_record(row) for row in conn.execute(sql, params)]


def get_channel(conn: sqlite3.Connection, me: str, channel_id: str) -> dict[str, Any]:
    """Channel ``channel_id`` if ``me`` can see it; raises ApiError (404) otherwise."""
    row = conn.execute(_channel_query("c.id = :id"), {"me": me, "id": channel_id}).fetchone()
    if row is None:
        raise _not_found(f"channel {channel_id!r}")
    return _channel_record(row)


def _visible_message(conn: sqlite3.Connection, me: str, seq: int) -> sqlite3.Row:
    row = conn.execute(
        f"""SELECT m.seq, m.channel_id, m.user_id, m.thread_seq, c.name AS channel_name
            FROM messages m JOIN channels c ON c.id = m.channel_id
            WHERE m.seq = :seq AND {_VISIBLE}""",  # noqa: S608 - fixed SQL fragment
        {"seq": seq, "me": me},
    ).fetchone()
    if row is None:
        raise _not_found(f"message {message_id(seq)!r}")
    return row  # type: ignore[no-any-return]


def check_message(conn: sqlite3.Connection, me: str, seq: int) -> None:
    """Raise ApiError (404) unless message ``seq`` exists in a channel ``me`` can see."""
    _visible_message(conn, me, seq)


def channel_messages(
    conn: sqlite3.Connection,
    channel_id: str,
    before: int | None,
    oldest: float | None,
    latest: float | None,
    limit: int,
) -> list[int]:
    """Top-level messages of a channel, newest first, strictly inside the time bounds."""
    sql = "SELECT seq FROM messages WHERE channel_id = ? AND thread_seq IS NULL"
    params: list[Any] = [channel_id]
    for clause, value in (
        ("seq < ?", before),
        ("created_at > ?", oldest),
        ("created_at < ?", latest),
    ):
        if value is not None:
            sql += f" AND {clause}"
            params.append(value)
    sql += " ORDER BY seq DESC LIMIT ?"
    return [row[0] for row in conn.execute(sql, [*params, limit])]


def thread_replies(
    conn: sqlite3.Connection, me: str, seq: int, after: int | None, limit: int
) -> list[int]:
    """Replies in the thread of message ``seq``, oldest first (the root is not included)."""
    row = _visible_message(conn, me, seq)
    root = row["thread_seq"] or row["seq"]
    return [
        r[0]
        for r in conn.execute(
            "SELECT seq FROM messages WHERE thread_seq = ? AND seq > ? ORDER BY seq LIMIT ?",
            (root, after or 0, limit),
        )
    ]


def _record_mentions(conn: sqlite3.Connection, seq: int, text: str) -> None:
    conn.execute("DELETE FROM mentions WHERE message_seq = ?", (seq,))
    names = mentioned_usernames(text)
    if names:
        marks = ",".join("?" * len(names))
        conn.execute(
            f"""INSERT INTO mentions (message_seq, user_id)
                SELECT ?, id FROM users WHERE username IN ({marks})""",  # noqa: S608
            (seq, *names),
        )


def post_message(
    conn: sqlite3.Connection, me: str, channel_id: str, text: str, thread: int | None
) -> int:
    """Post ``text`` as ``me`` (a member) into a channel or a thread in it; returns its row."""
    get_channel(conn, me, channel_id)
    member = conn.execute(
        "SELECT 1 FROM members WHERE channel_id = ? AND user_id = ?", (channel_id, me)
    ).fetchone()
    if member is None:
        raise ApiError(403, "forbidden", "only members of a channel can post in it")
    root = None
    if thread is not None:
        row = conn.execute(
            "SELECT seq, thread_seq FROM messages WHERE seq = ? AND channel_id = ?",
            (thread, channel_id),
        ).fetchone()
        if row is None:
            raise ApiError(404, "not_found", f"no message {message_id(thread)!r} in this channel")
        root = row["thread_seq"] or row["seq"]
    last = conn.execute("SELECT MAX(created_at) FROM messages").fetchone()[0]
    created = max(now(), last or 0.0)
    seq = conn.execute(
        """INSERT INTO messages (channel_id, user_id, text, created_at, thread_seq)
           VALUES (?, ?, ?, ?, ?) RETURNING seq""",
        (channel_id, me, text, created, root),
    ).fetchone()[0]
    _record_mentions(conn, seq, text)
    return int(seq)


def _own_message(conn: sqlite3.Connection, me: str, seq: int) -> sqlite3.Row:
    row = _visible_message(conn, me, seq)
    if row["user_id"] != me:
        raise ApiError(403, "forbidden", "you can only change your own messages")
    return row


def edit_message(conn: sqlite3.Connection, me: str, seq: int, text: str) -> None:
    """Replace the text of one of ``me``'s messages."""
    _own_message(conn, me, seq)
    conn.execute("UPDATE messages SET text = ?, edited_at = ? WHERE seq = ?", (text, now(), seq))
    _record_mentions(conn, seq, text)


def delete_message(conn: sqlite3.Connection, me: str, seq: int) -> None:
    """Delete one of ``me``'s messages; deleting a thread's root deletes its replies too."""
    _own_message(conn, me, seq)
    conn.execute("DELETE FROM messages WHERE seq = ?", (seq,))


def add_reaction(conn: sqlite3.Connection, me: str, seq: int, name: str) -> None:
    """React to a message ``me`` can see; reacting twice with one name changes nothing."""
    _visible_message(conn, me, seq)
    conn.execute(
        """INSERT OR IGNORE INTO reactions (message_seq, name, user_id, created_at)
           VALUES (?, ?, ?, ?)""",
        (seq, name, me, now()),
    )


def remove_reaction(conn: sqlite3.Connection, me: str, seq: int, name: str) -> None:
    """Take back ``me``'s reaction ``name`` (nothing happens if there was none)."""
    _visible_message(conn, me, seq)
    conn.execute(
        "DELETE FROM reactions WHERE message_seq = ? AND name = ? AND user_id = ?",
        (seq, name, me),
    )


def search(
    conn: sqlite3.Connection,
    me: str,
    query: str,
    channel_id: str | None,
    offset: int,
    limit: int,
) -> list[int]:
    """Messages matching every word of ``query`` (FTS5, stemmed), best match first."""
    words = _WORD.findall(query)
    if not words:
        raise ApiError(400, "invalid_request", "query needs at least one word")
    if len(words) > MAX_SEARCH_WORDS:
        raise ApiError(
            400,
            "invalid_request",
            f"query has {len(words)} words; search with at most {MAX_SEARCH_WORDS}",
        )
    match = " ".join('"' + word.replace('"', "") + '"' for word in words)
    params: dict[str, Any] = {"match": match, "me": me, "limit": limit, "offset": offset}
    where = ""
    if channel_id is not None:
        get_channel(conn, me, channel_id)
        where = " AND m.channel_id = :channel"
        params["channel"] = channel_id
    sql = f"""SELECT m.seq FROM messages_fts JOIN messages m ON m.seq = messages_fts.rowid
              JOIN channels c ON c.id = m.channel_id
              WHERE messages_fts MATCH :match AND {_VISIBLE}{where}
              ORDER BY bm25(messages_fts), m.seq DESC LIMIT :limit OFFSET :offset"""  # noqa: S608
    return [row[0] for row in conn.execute(sql, params)]


def mentions_of(conn: sqlite3.Connection, me: str, before: int | None, limit: int) -> list[int]:
    """Messages that mention ``me`` in channels ``me`` can see, newest first."""
    sql = f"""SELECT m.seq FROM mentions x JOIN messages m ON m.seq = x.message_seq
              JOIN channels c ON c.id = m.channel_id
              WHERE x.user_id = :me AND x.message_seq < :before AND {_VISIBLE}
              ORDER BY x.message_seq DESC LIMIT :limit"""  # noqa: S608 - fixed SQL fragment
    params = {"me": me, "before": before if before is not None else 2**62, "limit": limit}
    return [row[0] for row in conn.execute(sql, params)]


def read_marker(conn: sqlite3.Connection, me: str, channel_id: str) -> dict[str, Any]:
    """Where ``me`` stopped reading, and how many top-level messages by others came after."""
    get_channel(conn, me, channel_id)
    row = conn.execute(
        "SELECT last_read_seq FROM read_markers WHERE user_id = ? AND channel_id = ?",
        (me, channel_id),
    ).fetchone()
    last = row[0] if row else None
    unread = conn.execute(
        """SELECT COUNT(*) FROM messages WHERE channel_id = ? AND thread_seq IS NULL
           AND seq > ? AND user_id != ?""",
        (channel_id, last or 0, me),
    ).fetchone()[0]
    return {
        "channel_id": channel_id,
        "last_read_message_id": message_id(last) if last is not None else None,
        "unread_count": unread,
    }


def set_read_marker(conn: sqlite3.Connection, me: str, channel_id: str, seq: int) -> None:
    """Mark ``channel_id`` read up to message ``seq`` (which must be in that channel)."""
    get_channel(conn, me, channel_id)
    found = conn.execute(
        "SELECT 1 FROM messages WHERE seq = ? AND channel_id = ?", (seq, channel_id)
    ).fetchone()
    if found is None:
        raise ApiError(404, "not_found", f"no message {message_id(seq)!r} in this channel")
    conn.execute(
        """INSERT INTO read_markers (user_id, channel_id, last_read_seq) VALUES (?, ?, ?)
           ON CONFLICT (user_id, channel_id)
           DO UPDATE SET last_read_seq = excluded.last_read_seq""",
        (me, channel_id, seq),
    )
