"""A real Redis for the tests: Debian's ``redis-server`` on 127.0.0.1, a free port, a password.

A pytest plugin (registered in ``tests/conftest.py``): ``redis_server`` is one server for the
whole session, with persistence off; ``redis_url`` gives each test that URL on a database
emptied for it. Every test therefore talks to a Redis that demands a password, so a test that
finds the password in a message has found a leak.
"""

from __future__ import annotations

import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import free_port, stop_process

REDIS_SERVER = Path("/usr/bin/redis-server")


@dataclass(frozen=True)
class RedisServer:
    """A running ``redis-server``: where it listens and the password it asks for."""

    port: int
    password: str

    def url(self, db: int = 0) -> str:
        return f"redis://:{self.password}@127.0.0.1:{self.port}/{db}"

    def client(self, db: int = 0):  # type: ignore[no-untyped-def]
        import redis

        return redis.Redis.from_url(self.url(db), socket_timeout=5)


def _wait_until_it_answers(server: RedisServer, process: subprocess.Popen[str]) -> None:
    import redis

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            error = process.stderr.read() if process.stderr else ""
            pytest.fail(f"redis-server exited at start: {error}")
        try:
            if server.client().ping():
                return
        except redis.ConnectionError:
            time.sleep(0.05)
    pytest.fail("redis-server did not answer within 20 s")


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """Debian's redis-server, started once for the session and stopped after it."""
    binary = shutil.which("redis-server") or (str(REDIS_SERVER) if REDIS_SERVER.exists() else None)
    if binary is None:
        pytest.fail(
            "redis-server is missing: install Debian's redis-server package "
            "(`apt-get install -y redis-server`, as .ci/run does) to run the Redis tests"
        )
    folder = tmp_path_factory.mktemp("redis")
    server = RedisServer(port=free_port(), password=secrets.token_urlsafe(18))
    process = subprocess.Popen(
        [
            binary,
            "--bind", "127.0.0.1",
            "--port", str(server.port),
            "--requirepass", server.password,
            "--save", "",
            "--appendonly", "no",
            "--dir", str(folder),
            "--daemonize", "no",
            "--loglevel", "warning",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        _wait_until_it_answers(server, process)
        yield server
    finally:
        stop_process(process)


@pytest.fixture
def redis_url(redis_server: RedisServer) -> Iterator[str]:
    """The session's Redis URL (with its password), on a database emptied before the test."""
    client = redis_server.client(1)
    client.flushdb()
    yield redis_server.url(1)
    client.close()
