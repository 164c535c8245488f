"""Fixtures of the Slack tests: a fake Slack on 127.0.0.1 and a workspace with a Slack provider.

One HTTP server per module answers for a fresh :class:`FakePlatform` each test (every request
and answer checked against Slack's description), so a test's replies and failures are its own.
``oauth.v2.access`` with ``grant_type=refresh_token`` is not in the 2021 description: it is
answered here as https://docs.slack.dev/authentication/using-token-rotation describes it.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
from helpers import free_port, generated_workspace
from slack_support import PROVIDER, USER_TOKEN, activate, point_at
from slack_world import SlackWorld
from support.fake_platform import FakePlatform

from multichat.sandbox import SandboxServer


@dataclass
class TokenEndpoint:
    """oauth.v2.access for refreshes: the requests it saw and what it answers next."""

    requests: list[dict[str, str]] = field(default_factory=list)
    answer: dict[str, Any] = field(default_factory=dict)


@dataclass
class Switch:
    """Which fake the module's server answers for right now."""

    fake: FakePlatform | None = None
    tokens: TokenEndpoint = field(default_factory=TokenEndpoint)


def _app(switch: Switch) -> Any:
    from fastapi import FastAPI, Request, Response

    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    async def refresh(request: Request) -> Response:
        form = dict(parse_qsl((await request.body()).decode()))
        switch.tokens.requests.append(form)
        return Response(json.dumps(switch.tokens.answer), media_type="application/json")

    async def anything(request: Request) -> Response:
        assert switch.fake is not None
        raw_path = request.scope.get("raw_path") or request.url.path.encode()
        query = request.scope.get("query_string", b"").decode("latin-1")
        url = raw_path.decode("latin-1") + (f"?{query}" if query else "")
        status, headers, body = await switch.fake.handle(
            request.method, url, request.headers, await request.body()
        )
        return Response(body, status_code=status, headers=headers)

    # Plain routes: FastAPI would read the string annotations as query parameters.
    app.add_route("/api/oauth.v2.access", refresh, methods=["POST"])
    app.add_route("/{path:path}", anything, methods=["GET", "POST"])
    return app


@pytest.fixture(scope="module")
def slack_server() -> Iterator[tuple[SandboxServer, Switch]]:
    """An HTTP server on 127.0.0.1 that forwards to the current test's fake Slack."""
    switch = Switch()
    with SandboxServer(app=_app(switch)) as server:
        yield server, switch


@pytest.fixture
def slack(slack_server: tuple[SandboxServer, Switch]) -> Iterator[tuple[FakePlatform, SlackWorld]]:
    """A fresh fake Slack with the test workspace's answers; any spec violation fails the test."""
    _, switch = slack_server
    world = SlackWorld()
    fake = world.install(FakePlatform("slack"))
    switch.fake = fake
    switch.tokens = TokenEndpoint()
    yield fake, world
    switch.fake = None
    fake.assert_clean()


@pytest.fixture(scope="module")
def slack_workspace(
    slack_server: tuple[SandboxServer, Switch], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A workspace with provider ``slack`` (preset slack) calling the fake instead of slack.com."""
    server, _ = slack_server
    folder = generated_workspace(
        tmp_path_factory.mktemp("slack") / "ws", PROVIDER, "slack", {"port": free_port()}
    )
    point_at(folder, server.url)
    return folder


@pytest.fixture
def signed_in(slack_workspace: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The workspace, active, with a user token in ``MULTICHAT_SLACK_TOKEN``."""
    monkeypatch.setenv("MULTICHAT_SLACK_TOKEN", USER_TOKEN)
    activate(slack_workspace)
    return slack_workspace


@pytest.fixture
async def client(signed_in: Path) -> AsyncIterator[Any]:
    """A real MCP client, in memory, on the workspace's server."""
    from helpers import connect

    async with connect(signed_in) as connected:
        yield connected
