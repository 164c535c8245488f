"""The sandbox's SQLite database: its schema and a small thread-safe pool of connections.

FastAPI runs sync endpoints in worker threads, so each request borrows a connection from the
pool and gives it back; WAL mode lets readers run while one writer holds the lock.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from multichat.sandbox.errors import UnusableDatabase

#: Tables every sandbox database has had: a file whose tables lack them is another program's.
SANDBOX_TABLES = frozenset({"users", "channels", "messages"})

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    is_bot INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS channels (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('public', 'private', 'direct')),
    topic TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS members (
    channel_id TEXT NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (channel_id, user_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS members_by_user ON members(user_id, channel_id);
CREATE TABLE IF NOT EXISTS messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    channel_id TEXT NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users(id),
    text TEXT NOT NULL,
    created_at REAL NOT NULL,
    edited_at REAL,
    thread_seq INTEGER REFERENCES messages(seq) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS messages_by_channel ON messages(channel_id, seq);
CREATE INDEX IF NOT EXISTS messages_top_level ON messages(channel_id, thread_seq, seq);
CREATE INDEX IF NOT EXISTS messages_by_thread ON messages(thread_seq, seq);
CREATE TABLE IF NOT EXISTS reactions (
    message_seq INTEGER NOT NULL REFERENCES messages(seq) ON DELETE CASCADE,
    name TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id),
    created_at REAL NOT NULL,
    PRIMARY KEY (message_seq, name, user_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS mentions (
    message_seq INTEGER NOT NULL REFERENCES messages(seq) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users(id),
    PRIMARY KEY (message_seq, user_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS mentions_by_user ON mentions(user_id, message_seq);
CREATE TABLE IF NOT EXISTS read_markers (
    user_id TEXT NOT NULL REFERENCES users(id),
    channel_id TEXT NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    last_read_seq INTEGER NOT NULL,
    PRIMARY KEY (user_id, channel_id)
) WITHOUT ROWID;

CREATE VIRTUAL TABLE IF NOT EXISTS messages_fts USING fts5(
    text, content='messages', content_rowid='seq', tokenize='porter unicode61'
);
CREATE TRIGGER IF NOT EXISTS messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts(rowid, text) VALUES (new.seq, new.text);
END;
CREATE TRIGGER IF NOT EXISTS messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, text) VALUES ('delete', old.seq, old.text);
END;
CREATE TRIGGER IF NOT EXISTS messages_fts_update AFTER UPDATE OF text ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, text) VALUES ('delete', old.seq, old.text);
    INSERT INTO messages_fts(rowid, text) VALUES (new.seq, new.text);
END;

CREATE TABLE IF NOT EXISTS oauth_clients (
    client_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    secret_hash TEXT,
    redirect_uris TEXT NOT NULL,
    scopes TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS oauth_consents (
    csrf_hash TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    scope TEXT NOT NULL,
    state TEXT,
    code_challenge TEXT NOT NULL,
    expires_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS oauth_codes (
    code_hash TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    scope TEXT NOT NULL,
    code_challenge TEXT NOT NULL,
    grant_id TEXT NOT NULL,
    expires_at REAL NOT NULL,
    used INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS oauth_tokens (
    token_hash TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('access', 'refresh')),
    client_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    grant_id TEXT NOT NULL,
    expires_at REAL NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS oauth_tokens_by_grant ON oauth_tokens(grant_id);
CREATE INDEX IF NOT EXISTS oauth_tokens_by_user ON oauth_tokens(user_id);
CREATE TABLE IF NOT EXISTS user_passwords (
    user_id TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    password_hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS personal_tokens (
    id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    note TEXT NOT NULL,
    scope TEXT NOT NULL,
    created_at REAL NOT NULL,
    expires_at REAL,
    revoked INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS personal_tokens_by_user ON personal_tokens(user_id);
CREATE TABLE IF NOT EXISTS device_codes (
    device_hash TEXT PRIMARY KEY,
    user_code_hash TEXT NOT NULL UNIQUE,
    client_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'approved', 'denied', 'used')),
    user_id TEXT,
    poll_interval INTEGER NOT NULL,
    last_poll_at REAL,
    expires_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS form_tokens (
    csrf_hash TEXT PRIMARY KEY,
    purpose TEXT NOT NULL,
    data TEXT NOT NULL,
    expires_at REAL NOT NULL
);
"""


class Database:
    """A SQLite file with the sandbox schema; hands out pooled connections to any thread."""

    def __init__(self, path: Path) -> None:
        """Open (or create) the database at ``path`` and make sure the schema exists.

        Raises:
            UnusableDatabase: the file cannot be opened, is not SQLite, or holds another
                program's tables; nothing was written to it.
        """
        self.path = Path(path)
        self._idle: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._closed = False
        _check_folder(self.path)
        try:
            with self.connection() as conn:
                _check_tables(conn, self.path)  # a read: a file that is not SQLite fails here
                conn.execute("PRAGMA journal_mode=WAL")
                conn.executescript(SCHEMA)
        except sqlite3.DatabaseError as exc:
            self.close()
            raise UnusableDatabase(_unusable(self.path, exc)) from None
        except UnusableDatabase:
            self.close()
            raise

    def _open(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    @contextmanager
    def connection(self) -> Iterator[sqlite3.Connection]:
        """Borrow a connection in autocommit mode; each statement is its own transaction."""
        with self._lock:
            if self._closed:
                raise sqlite3.ProgrammingError("the sandbox database is closed")
            conn = self._idle.pop() if self._idle else None
        if conn is None:
            conn = self._open()
        try:
            yield conn
        finally:
            if conn.in_transaction:
                conn.rollback()
            with self._lock:
                if self._closed:
                    conn.close()
                else:
                    self._idle.append(conn)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Borrow a connection in ``BEGIN IMMEDIATE``: committed on success, else rolled back."""
        with self.connection() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.rollback()
                raise
            conn.commit()

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        """Run one read statement and return all its rows."""
        with self.connection() as conn:
            return conn.execute(sql, params).fetchall()

    def close(self) -> None:
        """Close every connection; later borrowers get an error."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()


def _check_folder(path: Path) -> None:
    """Refuse a path SQLite could only answer "unable to open database file" about."""
    if path.is_dir():
        raise UnusableDatabase(
            f"{path} is a folder: give a database file, such as {path / 'sandbox.db'}"
        )
    if not path.parent.is_dir():
        raise UnusableDatabase(
            f"cannot create the sandbox database {path}: the folder {path.parent} does not "
            "exist; create it, or give a file in a folder that does"
        )


def _check_tables(conn: sqlite3.Connection, path: Path) -> None:
    """Refuse a SQLite file that holds tables, but not the sandbox's: another program's data."""
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if tables and not tables >= SANDBOX_TABLES:
        shown = ", ".join(sorted(tables)[:5]) + (", ..." if len(tables) > 5 else "")
        raise UnusableDatabase(
            f"{path} is another program's SQLite database (tables: {shown}), not the "
            "sandbox's; it was left as it was: give a new file name"
        )


def _unusable(path: Path, error: sqlite3.DatabaseError) -> str:
    """One line on why SQLite refused ``path`` as the sandbox database, and what to do."""
    if not isinstance(error, sqlite3.OperationalError):  # "file is not a database"
        return (
            f"{path} is not a SQLite database ({error}); it was left as it was: give a new "
            "file name, or one the sandbox made"
        )
    return (
        f"cannot use {path} as the sandbox database ({error}): check its permissions, or give "
        "another file"
    )


def open_database(db: Database | Path | str) -> Database:
    """Accept an open :class:`Database` or a path to one (created if missing)."""
    return db if isinstance(db, Database) else Database(Path(db))
