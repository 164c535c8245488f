"""A flood of sessions cannot lock others out (issue 11, finding 5).

Before: ~9,000 unauthenticated ``initialize`` requests filled the SDK's 10,000 sessions and
every client got 503 for 30 minutes. Now a token is required (the flood gets 401 and opens
nothing), each client holds at most ``SESSIONS_PER_CLIENT`` sessions, and idle ones close
after ``SESSION_IDLE_SECONDS``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from fastmcp import Client
from helpers import MULTICHAT, clean_env, free_port, stop_process
from starlette.types import Message, Receive, Scope, Send
from test_http_transport import INITIALIZE, MCP_HEADERS, Served, wait_listening

from multichat.runtime.http_sessions import SESSIONS_PER_CLIENT, SessionBudget

TOKEN = "mc-sessions-" + "s" * 24
FLOOD = 2_000


@pytest.fixture
def served(workspace: Path, add_provider: Any, tmp_path: Path) -> Iterator[Served]:
    import subprocess

    add_provider("alpha")
    port = free_port()
    log = tmp_path / "server.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [MULTICHAT, "run", "--transport", "http", "--port", str(port)],
            cwd=workspace,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=clean_env(MULTICHAT_HTTP_TOKEN=TOKEN),
        )
    server = Served(process, port, log)
    try:
        wait_listening(server)
        yield server
    finally:
        stop_process(process)


async def initialize(client: httpx2.AsyncClient, url: str, token: str | None) -> httpx2.Response:
    headers = dict(MCP_HEADERS)
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return await client.post(url, json=INITIALIZE, headers=headers, timeout=30)


async def test_an_unauthenticated_flood_opens_nothing_and_locks_nobody_out(served: Served):
    limits = httpx2.Limits(max_connections=50)
    async with httpx2.AsyncClient(limits=limits) as http:
        statuses = await asyncio.gather(*(initialize(http, served.url, None) for _ in range(FLOOD)))
    assert {response.status_code for response in statuses} == {401}

    async with Client(served.url, auth=TOKEN, timeout=30) as client:
        assert {tool.name for tool in await client.list_tools()} == {
            "alpha_provider_info",
            "alpha_whoami",
        }


async def test_one_client_over_its_share_is_refused_and_others_are_served(served: Served):
    async with httpx2.AsyncClient() as greedy:
        opened = [await initialize(greedy, served.url, TOKEN) for _ in range(SESSIONS_PER_CLIENT)]
        assert {response.status_code for response in opened} == {200}
        over = await initialize(greedy, served.url, TOKEN)
        assert over.status_code == 429
        assert "sessions open already" in over.json()["error"]["message"]
        assert over.headers["retry-after"]

        # Another client (another address, same token) is not affected.
        elsewhere = httpx2.AsyncHTTPTransport(local_address="127.0.0.2")
        async with httpx2.AsyncClient(transport=elsewhere) as other:
            assert (await initialize(other, served.url, TOKEN)).status_code == 200

        # Ending one session (HTTP DELETE) gives its place back.
        session = opened[0].headers["mcp-session-id"]
        ended = await greedy.delete(
            served.url,
            headers={**MCP_HEADERS, "Authorization": f"Bearer {TOKEN}", "mcp-session-id": session},
        )
        assert ended.status_code < 300
        assert (await initialize(greedy, served.url, TOKEN)).status_code == 200


# ---- the bookkeeping, in process ------------------------------------------------------------


class FakeMcp:
    """An ASGI app that opens a session on initialize and closes it on DELETE."""

    def __init__(self) -> None:
        self.opened = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers: list[tuple[bytes, bytes]] = []
        status = 200
        if scope["method"] == "POST" and not any(
            k == b"mcp-session-id" for k, _ in scope["headers"]
        ):
            self.opened += 1
            headers.append((b"mcp-session-id", f"s{self.opened}".encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b"{}"})


async def call(app: Any, method: str, session: str | None = None, client: str = "127.0.0.1") -> int:
    headers = [(b"mcp-session-id", session.encode())] if session else []
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "http", "method": method, "headers": headers, "client": (client, 1)}
    await app(scope, receive, send)
    return int(sent[0]["status"])


async def test_idle_sessions_are_forgotten_after_the_idle_time():
    now = [0.0]
    budget = SessionBudget(FakeMcp(), per_client=2, idle_seconds=300, clock=lambda: now[0])

    assert await call(budget, "POST") == 200
    assert await call(budget, "POST") == 200
    assert await call(budget, "POST") == 429
    now[0] = 200.0
    assert await call(budget, "POST", session="s1") == 200  # s1 is used: it stays
    now[0] = 301.0
    assert await call(budget, "POST") == 200  # s2 idled out; s1 was seen at 200
    assert await call(budget, "POST") == 429
    assert await call(budget, "POST", client="127.0.0.9") == 200
