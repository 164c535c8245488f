"""Two server instances (two OS processes) sharing one token in Redis, with the sandbox as the
authorization server, whose refresh tokens are single use and whose token endpoint counts
refresh requests:

- an expired token is refreshed exactly once for 200 concurrent ``whoami`` tool calls spread
  across both instances;
- an instance killed with SIGKILL while it holds the lock (its refresh request held at the
  sandbox's door, before the refresh token is spent) blocks the other only until the lease
  ends; the other refreshes, and the stored token works.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from helpers import LinePump, clean_env, free_port, stop_process
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send
from support.redis_server import RedisServer

from multichat.runtime import load_config
from multichat.runtime.loader import activate_workspace
from multichat.runtime.redis_token_store import provider_store
from multichat.runtime.token_access import reset_provider_auth
from multichat.sandbox import SANDBOX_CLIENT_ID, SandboxServer, issue_tokens
from multichat.sandbox.app import create_app

PROVIDER = "chat"
SCOPES = ["chat:read", "chat:write", "users:read"]
TOKEN_PATH = "/oauth/token"
LEASE = 2.0

#: One instance: builds the workspace's MCP server, says "ready", waits for "go" on stdin, then
#: makes CALLS concurrent ``chat_whoami`` calls (or one token request) and reports what it saw:
#: digests of the tokens, never the tokens.
WORKER = textwrap.dedent(
    """
    import asyncio, hashlib, json, sys
    from fastmcp import Client
    from multichat.runtime import build_server, load_config, provider_auth
    from multichat.runtime.loader import activate_workspace

    config = load_config(sys.argv[1])
    activate_workspace(config)
    calls = int(sys.argv[2])
    server, report = build_server(config)
    auth = provider_auth("chat")

    async def main():
        async with Client(server) as client:
            print("ready", flush=True)
            await asyncio.to_thread(sys.stdin.readline)
            if calls == 0:
                await auth.aget_credentials()
                answers = []
            else:
                answers = await asyncio.gather(
                    *(client.call_tool("chat_whoami", {}) for _ in range(calls))
                )
        token = auth.token_info["credentials"].access_token
        print(json.dumps({
            "answered": sum(1 for answer in answers if not answer.is_error),
            "users": sorted({json.dumps(answer.structured_content, sort_keys=True)
                             for answer in answers}),
            "token": hashlib.sha256(token.encode()).hexdigest(),
            "refreshes": auth.refresh_count,
        }), flush=True)

    asyncio.run(main())
    """
)


class TokenDoor:
    """ASGI middleware before the sandbox's token endpoint: while ``armed``, the first request
    waits at the door (``arrived`` is set) until ``released``, then gets a 503 without ever
    reaching the endpoint, so the refresh token it carries is not spent."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.armed = False
        self.arrived = threading.Event()
        self.released = threading.Event()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == TOKEN_PATH and self.armed:
            self.armed = False
            self.arrived.set()
            await asyncio.to_thread(self.released.wait, 120)
            response = JSONResponse({"error": "temporarily_unavailable"}, status_code=503)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


@pytest.fixture(scope="module")
def door_sandbox() -> Iterator[tuple[SandboxServer, TokenDoor]]:
    """A sandbox whose token endpoint sits behind a :class:`TokenDoor`."""
    app = create_app()
    doors: list[TokenDoor] = []

    def remember(inner: ASGIApp) -> TokenDoor:
        doors.append(TokenDoor(inner))
        return doors[-1]

    app.add_middleware(remember)  # type: ignore[arg-type]
    with SandboxServer(app=app) as server:
        # Starlette builds its middleware on the first request: make one so the door exists.
        httpx2.get(f"{server.url}/api/v1/me", timeout=10)
        yield server, doors[0]
        doors[0].released.set()


@pytest.fixture
def shared_workspace(
    door_sandbox: tuple[SandboxServer, TokenDoor],
    redis_url: str,
    tmp_path: Path,
    _workspace_template: Path,
) -> Path:
    """A workspace with the sandbox preset as ``chat``, its token in Redis, already expired."""
    import shutil

    from multichat.generator.provider import add_provider

    sandbox, _ = door_sandbox
    sandbox.app.state.token_requests.clear()
    folder = tmp_path / "ws"
    shutil.copytree(_workspace_template, folder)
    config_path = folder / "provider-config.yaml"
    add_provider(
        PROVIDER,
        config_path=config_path,
        preset="sandbox",
        data={"platform_url": sandbox.url, "port": free_port()},
    )
    config_path.write_text(
        config_path.read_text()
        + f"server:\n  token_store:\n    url: {json.dumps(redis_url)}\n"
        + f"    namespace: refresh-tests\n    lock_lease: {LEASE}\n    lock_wait: 60\n"
    )
    token = issue_tokens(sandbox.app.state.db, SANDBOX_CLIENT_ID, "U01", SCOPES)
    config = load_config(config_path)
    activate_workspace(config)
    reset_provider_auth()
    # Expired on our side; the refresh token is valid at the sandbox.
    provider_store(config, PROVIDER).save({**token, "expires_at": time.time() - 5})
    return folder


def _start(workspace: Path, calls: int) -> tuple[subprocess.Popen[str], LinePump]:
    process = subprocess.Popen(
        [sys.executable, "-c", WORKER, str(workspace / "provider-config.yaml"), str(calls)],
        cwd=workspace,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_env(),
    )
    pump = LinePump(process.stdout)
    line = pump.next_line(time.monotonic() + 120)
    if line != "ready\n":
        stop_process(process)
        pytest.fail(f"the worker did not start: {line!r} {process.stderr.read()}")
    return process, pump


def _go(process: subprocess.Popen[str]) -> None:
    assert process.stdin is not None
    process.stdin.write("go\n")
    process.stdin.flush()


def _report(process: subprocess.Popen[str], pump: LinePump) -> dict[str, Any]:
    line = pump.next_line(time.monotonic() + 180)
    process.wait(60)
    assert process.returncode == 0, process.stderr.read() if process.stderr else ""
    assert line is not None
    return dict(json.loads(line))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _stored(workspace: Path) -> dict[str, Any]:
    data = provider_store(load_config(workspace / "provider-config.yaml"), PROVIDER).load()
    assert data is not None
    return data


def _works_at_the_sandbox(sandbox: SandboxServer, access_token: str) -> None:
    me = httpx2.get(
        f"{sandbox.api_url}/me", headers={"Authorization": f"Bearer {access_token}"}, timeout=10
    )
    assert me.status_code == 200, me.text
    assert me.json()["id"] == "U01"


def test_two_instances_refresh_an_expired_token_once_for_200_calls(
    door_sandbox: tuple[SandboxServer, TokenDoor], shared_workspace: Path
):
    sandbox, _ = door_sandbox
    old = _stored(shared_workspace)
    workers = [_start(shared_workspace, 100) for _ in range(2)]
    try:
        for process, _ in workers:
            _go(process)
        reports = [_report(process, pump) for process, pump in workers]
    finally:
        for process, _ in workers:
            stop_process(process)

    assert [report["answered"] for report in reports] == [100, 100], reports
    assert len({user for report in reports for user in report["users"]}) == 1
    assert sandbox.app.state.token_requests["refresh_token"] == 1
    assert sum(report["refreshes"] for report in reports) == 1, reports
    stored = _stored(shared_workspace)
    assert {report["token"] for report in reports} == {_digest(stored["access_token"])}
    assert stored["refresh_token"] != old["refresh_token"]
    _works_at_the_sandbox(sandbox, stored["access_token"])


def test_an_instance_killed_mid_refresh_leaves_the_refresh_to_the_other(
    door_sandbox: tuple[SandboxServer, TokenDoor], shared_workspace: Path, redis_server: RedisServer
):
    sandbox, door = door_sandbox
    old = _stored(shared_workspace)
    door.arrived.clear()
    door.released.clear()
    door.armed = True
    doomed, _ = _start(shared_workspace, 0)
    survivor, survivor_pump = _start(shared_workspace, 0)
    try:
        _go(doomed)
        assert door.arrived.wait(120), "the first instance never asked for a refresh"
        lock_key = provider_store(
            load_config(shared_workspace / "provider-config.yaml"), PROVIDER
        ).lock_key
        assert redis_server.client(1).exists(lock_key) == 1  # held by the doomed instance
        _go(survivor)
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(30)
        report = _report(survivor, survivor_pump)
    finally:
        door.released.set()
        stop_process(doomed)
        stop_process(survivor)

    assert doomed.returncode == -signal.SIGKILL
    assert report["refreshes"] == 1
    assert sandbox.app.state.token_requests["refresh_token"] == 1  # the survivor's alone
    stored = _stored(shared_workspace)
    assert report["token"] == _digest(stored["access_token"])
    assert stored["refresh_token"] != old["refresh_token"]
    _works_at_the_sandbox(sandbox, stored["access_token"])
