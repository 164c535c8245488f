"""Deterministic seed data: a small team's week of conversation, and bulk channels for benchmarks.

Everything comes from ``random.Random(42)`` and fixed timestamps (``seed_data.BASE_TIME``), so two
seeded databases hold the same rows with the same ids.
"""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from multichat.sandbox import seed_data
from multichat.sandbox.db import Database, open_database
from multichat.sandbox.errors import UnknownChannel
from multichat.sandbox.records import mentioned_usernames, message_id
from multichat.sandbox.seed_data import CHANNELS, CONVERSATIONS, SCRIPT, USERS

SEED = 42
# Filler mentions anyone but ada, so that every @ada mention is a scripted, countable fact.
MENTIONABLE = [name for _, name, _, bot in USERS if name != "ada" and not bot]


@dataclass
class _Draft:
    """A message before it has a row number; ``root`` is the index of its thread's root."""

    channel_id: str
    author: str
    text: str
    created_at: float
    root: int | None = None
    edited_at: float | None = None
    reactions: dict[str, list[str]] = field(default_factory=dict)


def _fill(rng: random.Random, template: str, people: Sequence[str]) -> str:
    values = {key: rng.choice(options) for key, options in seed_data.FILL.items()}
    values["person"] = "@" + rng.choice(list(people))
    return template.format(**values)


def _clock(day: int, hhmm: str) -> float:
    hours, minutes = hhmm.split(":")
    return seed_data.BASE_TIME + day * seed_data.DAY + int(hours) * 3600 + int(minutes) * 60


def _filler(rng: random.Random) -> list[_Draft]:
    drafts: list[_Draft] = []
    for spec in CHANNELS:
        humans = [name for name in spec.members if name != "deploybot"]
        for _ in range(spec.roots):
            day = rng.randrange(5)
            start = seed_data.BASE_TIME + day * seed_data.DAY + rng.randrange(9 * 3600, 18 * 3600)
            if spec.name == "engineering" and rng.random() < 0.12:
                text = _fill(rng, rng.choice(seed_data.BOT_MESSAGES), MENTIONABLE)
                drafts.append(_Draft(spec.id, "deploybot", text, start))
                continue
            root_text, replies = rng.choice(CONVERSATIONS[spec.name])
            authors = ["katherine", "grace"] if spec.name == "announcements" else humans
            root = _Draft(spec.id, rng.choice(authors), _fill(rng, root_text, MENTIONABLE), start)
            drafts.append(root)
            root_index = len(drafts) - 1
            if replies and rng.random() < 0.6:
                when = start
                for reply in replies[: rng.randint(1, len(replies))]:
                    when += rng.randrange(60, 45 * 60)
                    author = rng.choice([name for name in humans if name != root.author] or humans)
                    drafts.append(
                        _Draft(spec.id, author, _fill(rng, reply, MENTIONABLE), when, root_index)
                    )
    for draft in drafts:
        members = next(spec.members for spec in CHANNELS if spec.id == draft.channel_id)
        if rng.random() < 0.3:
            for name in rng.sample(seed_data.REACTIONS, rng.randint(1, 2)):
                draft.reactions[name] = rng.sample(members, rng.randint(1, min(3, len(members))))
        if rng.random() < 0.05:
            draft.edited_at = draft.created_at + rng.randrange(60, 600)
    return drafts


def _add_scripted(drafts: list[_Draft]) -> list[_Draft]:
    ids = {spec.name: spec.id for spec in CHANNELS}
    for item in SCRIPT:
        start = _clock(*item.when)
        drafts.append(_Draft(ids[item.channel], item.author, item.text, start))
        drafts[-1].reactions = dict(item.reactions)
        root_index = len(drafts) - 1
        for author, minutes, text in item.replies:
            drafts.append(_Draft(ids[item.channel], author, text, start + minutes * 60, root_index))
    return drafts


def _user_ids(conn: sqlite3.Connection) -> dict[str, str]:
    return {row[1]: row[0] for row in conn.execute("SELECT id, username FROM users")}


def _insert(conn: sqlite3.Connection, drafts: list[_Draft]) -> list[int]:
    """Insert drafts in time order with their mentions and reactions; returns their rows."""
    order = sorted(range(len(drafts)), key=lambda i: (drafts[i].created_at, i))
    first = conn.execute("SELECT COALESCE(MAX(seq), 0) FROM messages").fetchone()[0] + 1
    seq_of = {index: first + position for position, index in enumerate(order)}
    users = _user_ids(conn)
    messages, mentions, reactions = [], [], []
    for index in order:
        draft, seq = drafts[index], seq_of[index]
        root = seq_of[draft.root] if draft.root is not None else None
        messages.append(
            (seq, draft.channel_id, users[draft.author], draft.text, draft.created_at,
             draft.edited_at, root)
        )  # fmt: skip
        mentions += [
            (seq, users[name]) for name in mentioned_usernames(draft.text) if name in users
        ]
        for name, people in draft.reactions.items():
            reactions += [(seq, name, users[person], draft.created_at + 60) for person in people]
    conn.executemany(
        """INSERT INTO messages (seq, channel_id, user_id, text, created_at, edited_at, thread_seq)
           VALUES (?, ?, ?, ?, ?, ?, ?)""",
        messages,
    )
    conn.executemany("INSERT OR IGNORE INTO mentions VALUES (?, ?)", mentions)
    conn.executemany("INSERT OR IGNORE INTO reactions VALUES (?, ?, ?, ?)", reactions)
    return [seq_of[i] for i in range(len(drafts))]


def _read_markers(conn: sqlite3.Connection) -> None:
    """Ada has read every channel she is in up to Thursday noon."""
    conn.execute(
        """INSERT INTO read_markers (user_id, channel_id, last_read_seq)
           SELECT 'U01', m.channel_id, MAX(x.seq) FROM members m
           JOIN messages x ON x.channel_id = m.channel_id AND x.created_at < ?
           WHERE m.user_id = 'U01' GROUP BY m.channel_id""",
        (seed_data.ADA_READ_UNTIL,),
    )


def seed_database(db: Database | Path | str, *, messages: bool = True) -> bool:
    """Fill an empty database with the sandbox's people, channels and conversation.

    With ``messages=False`` only people and channels are created. Returns False, doing nothing,
    when the database already has users.
    """
    database = open_database(db)
    with database.transaction() as conn:
        if conn.execute("SELECT 1 FROM users LIMIT 1").fetchone():
            return False
        conn.executemany(
            "INSERT INTO users (id, username, name, email, is_bot) VALUES (?, ?, ?, ?, ?)",
            [
                (uid, username, name, f"{username}@{seed_data.EMAIL_DOMAIN}", int(bot))
                for uid, username, name, bot in USERS
            ],
        )
        users = _user_ids(conn)
        created = seed_data.BASE_TIME - 30 * seed_data.DAY
        for spec in CHANNELS:
            conn.execute(
                "INSERT INTO channels (id, name, kind, topic, created_at) VALUES (?, ?, ?, ?, ?)",
                (spec.id, spec.name, spec.kind, spec.topic, created),
            )
            conn.executemany(
                "INSERT INTO members (channel_id, user_id) VALUES (?, ?)",
                [(spec.id, users[name]) for name in spec.members],
            )
        if messages:
            _insert(conn, _add_scripted(_filler(random.Random(SEED))))  # noqa: S311
            _read_markers(conn)
    return True


def create_channel(
    db: Database | Path | str,
    name: str,
    kind: str = "public",
    members: Sequence[str] | None = None,
) -> str:
    """Create a channel (members are usernames; default everyone); returns its id."""
    database = open_database(db)
    with database.transaction() as conn:
        users = _user_ids(conn)
        count = conn.execute("SELECT COUNT(*) FROM channels").fetchone()[0]
        channel_id = f"C{count + 1:02d}"
        while conn.execute("SELECT 1 FROM channels WHERE id = ?", (channel_id,)).fetchone():
            count += 1
            channel_id = f"C{count + 1:02d}"
        conn.execute(
            "INSERT INTO channels (id, name, kind, topic, created_at) VALUES (?, ?, ?, ?, ?)",
            (channel_id, name, kind, "", seed_data.BASE_TIME),
        )
        conn.executemany(
            "INSERT INTO members (channel_id, user_id) VALUES (?, ?)",
            [(channel_id, users[member]) for member in (members or list(users))],
        )
    return channel_id


def seed_channel(
    db: Database | Path | str, channel_name: str, count: int, *, seed: int = SEED
) -> list[str]:
    """Bulk-insert ``count`` top-level messages into a channel, newer than every message so far.

    Authors are the channel's members; texts come from the seed conversations. Returns the new
    message ids, oldest first.

    Raises:
        UnknownChannel: no channel is called ``channel_name``.
    """
    database = open_database(db)
    rng = random.Random(seed)  # noqa: S311 - seed data
    with database.transaction() as conn:
        row = conn.execute("SELECT id FROM channels WHERE name = ?", (channel_name,)).fetchone()
        if row is None:
            raise UnknownChannel(f"no sandbox channel named {channel_name!r}")
        channel_id = row[0]
        members = [
            r[0]
            for r in conn.execute(
                """SELECT u.username FROM members m JOIN users u ON u.id = m.user_id
                   WHERE m.channel_id = ? AND u.is_bot = 0 ORDER BY u.id""",
                (channel_id,),
            )
        ] or [r[0] for r in conn.execute("SELECT username FROM users ORDER BY id")]
        pool = CONVERSATIONS.get(channel_name) or CONVERSATIONS["engineering"]
        texts = [text for root, replies in pool for text in (root, *replies)]
        people = [name for name in members if name != "ada"] or members
        last = conn.execute("SELECT MAX(created_at) FROM messages").fetchone()[0]
        start = (last or seed_data.BASE_TIME) + 1
        drafts = [
            _Draft(
                channel_id,
                rng.choice(members),
                _fill(rng, rng.choice(texts), people),
                round(start + i * 7, 3),
            )
            for i in range(count)
        ]
        return [message_id(seq) for seq in _insert(conn, drafts)]
