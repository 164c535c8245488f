"""``multichat run`` serves on uvloop where it is installed, and on asyncio's loop when asked."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from fastmcp import Client
from fastmcp.client.transports import StdioTransport, StreamableHttpTransport
from helpers import (
    HTTP_TOKEN,
    MULTICHAT,
    clean_env,
    free_port,
    run_cli,
    serving_http,
    wait_for_line,
)

from multichat.errors import ConfigError
from multichat.runtime.event_loop import EVENT_LOOP_VARIABLE, chosen_event_loop

DEADLINE = 60.0

LOOP_NAME = '''\
"""Names the event loop the serving process runs on."""

import asyncio

from ..mcp_instance import tool


@tool(read_only=True)
async def loop_name() -> str:
    """The running loop's class and module."""
    loop = asyncio.get_running_loop()
    return f"{type(loop).__module__}.{type(loop).__name__}"
'''


def test_uvloop_is_chosen_when_installed_and_nothing_is_asked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(EVENT_LOOP_VARIABLE, raising=False)
    assert chosen_event_loop() == "uvloop"


@pytest.mark.parametrize(("asked", "chosen"), [("asyncio", "asyncio"), (" UVLOOP ", "uvloop")])
def test_the_variable_picks_the_loop(
    monkeypatch: pytest.MonkeyPatch, asked: str, chosen: str
) -> None:
    monkeypatch.setenv(EVENT_LOOP_VARIABLE, asked)
    assert chosen_event_loop() == chosen


def test_an_unknown_loop_is_a_config_error_naming_the_choices(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(EVENT_LOOP_VARIABLE, "trio")
    with pytest.raises(ConfigError, match=r"MULTICHAT_EVENT_LOOP='trio'.*uvloop or asyncio"):
        chosen_event_loop()


def test_asking_for_uvloop_where_it_is_missing_says_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import importlib.util

    monkeypatch.setenv(EVENT_LOOP_VARIABLE, "uvloop")
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ConfigError, match="uvloop is not installed"):
        chosen_event_loop()


@pytest.fixture
def loop_workspace(workspace: Path, add_provider: Callable[..., Path]) -> Path:
    """A workspace whose provider ``alpha`` has a tool naming the running loop."""
    (add_provider("alpha") / "tools" / "loop_name.py").write_text(LOOP_NAME)
    return workspace


@pytest.mark.parametrize(
    ("asked", "module"), [(None, "uvloop"), ("asyncio", "asyncio.unix_events")]
)
async def test_stdio_serves_on_the_chosen_loop(
    loop_workspace: Path, asked: str | None, module: str
) -> None:
    env = clean_env() if asked is None else clean_env(MULTICHAT_EVENT_LOOP=asked)
    transport = StdioTransport(command=MULTICHAT, args=["run"], cwd=str(loop_workspace), env=env)
    async with Client(transport, timeout=DEADLINE) as client:
        result = await client.call_tool("alpha_loop_name", {})
    assert str(result.data).startswith(module + "."), result.data


async def test_http_serves_on_uvloop(loop_workspace: Path) -> None:
    port = free_port()
    with serving_http(loop_workspace, "--port", str(port)) as (_, errors):
        wait_for_line(errors, "serving MCP at", time.monotonic() + DEADLINE)
        transport = StreamableHttpTransport(
            f"http://127.0.0.1:{port}/mcp", headers={"Authorization": f"Bearer {HTTP_TOKEN}"}
        )
        async with Client(transport, timeout=DEADLINE) as client:
            result = await client.call_tool("alpha_loop_name", {})
    assert str(result.data).startswith("uvloop."), (result.data, "".join(errors.seen))


def test_an_unknown_loop_stops_run_with_one_line(loop_workspace: Path) -> None:
    done = run_cli("run", cwd=loop_workspace, env={"MULTICHAT_EVENT_LOOP": "trio"})

    assert done.returncode != 0
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1, done.stderr
    assert "MULTICHAT_EVENT_LOOP='trio'" in done.stderr
