"""Faults from the platform and from providers: bounded retries, one readable error, no hang.

The platform is the real sandbox on a socket, its fault knobs set per test; the server is the
real one, reached through FastMCP's in-memory client and, for the hung call, over stdio.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from fastmcp import Client
from fastmcp.exceptions import ToolError
from helpers import connect, free_port, set_provider_keys
from security_support import (
    PROVIDER,
    RawStdioSession,
    make_sandbox_workspace,
    sign_in,
    tool_error_text,
)

from multichat.errors import ConfigError
from multichat.runtime import build_server, load_config
from multichat.sandbox import SANDBOX_CLIENT_ID, SandboxServer, set_faults

#: Upper bound on any one call in these tests; the server's own time-outs end them far sooner.
CALL_BOUND = 60.0
#: Attempts the platform client makes (RetryPolicy's default) before it gives up.
ATTEMPTS = 4


@pytest.fixture
def faults(sandbox: SandboxServer) -> Iterator[Any]:
    """The sandbox app with fault counts cleared; every knob is off again afterwards."""
    sandbox.app.state.fault_counts.clear()
    yield sandbox.app
    set_faults(sandbox.app)
    sandbox.app.state.fault_counts.clear()


def copy_of(workspace: Path, tmp_path: Path) -> Path:
    target = tmp_path / "copy"
    shutil.copytree(workspace, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


async def call(client: Client[Any], tool: str, **arguments: Any) -> Any:
    async with asyncio.timeout(CALL_BOUND):
        return (await client.call_tool(f"{PROVIDER}_{tool}", arguments)).structured_content


async def failure(client: Client[Any], tool: str, **arguments: Any) -> str:
    """The one ToolError a call ends in, as text."""
    with pytest.raises(ToolError) as failed:
        await call(client, tool, **arguments)
    return str(failed.value)


# ---- faults of the platform ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("knobs", "reason", "status"),
    [
        pytest.param(
            {"rate_limit_fraction": 1.0, "retry_after": 1}, "rate limited (HTTP 429)", 429, id="429"
        ),
        pytest.param(
            {"server_error_fraction": 1.0, "server_error_status": 503}, "HTTP 503", 503, id="503"
        ),
        pytest.param(
            {"server_error_fraction": 1.0, "server_error_status": 500}, "HTTP 500", 500, id="500"
        ),
    ],
)
async def test_a_platform_failing_every_time_costs_four_attempts_and_one_error(
    chat_workspace, faults, knobs, reason, status
):
    set_faults(faults, seed=7, **knobs)
    async with connect(chat_workspace) as client:
        message = await failure(client, "list_channels")
        attempts = faults.state.fault_counts[status]
        # The server keeps serving while the platform is down, and once it is back.
        info = await call(client, "provider_info")
        set_faults(faults)
        channels = await call(client, "list_channels")

    assert attempts == ATTEMPTS
    assert message == (
        f"{PROVIDER}: GET channels still failed after {ATTEMPTS} attempts ({reason}); "
        "try again later"
    )
    assert info["authenticated"] is True
    assert len(channels["channels"]) == 7


async def test_a_platform_slower_than_http_timeout_ends_in_a_timed_out_error(
    chat_workspace, faults, tmp_path
):
    workspace = copy_of(chat_workspace, tmp_path)
    set_provider_keys(workspace, PROVIDER, http_timeout=0.25)
    set_faults(faults, latency_ms=3000)
    async with connect(workspace) as client:
        message = await failure(client, "search_messages", query="flamegraph")
        set_faults(faults)
        found = await call(client, "search_messages", query="flamegraph")

    assert message == (
        f"{PROVIDER}: GET search still failed after {ATTEMPTS} attempts (timed out); "
        "try again later"
    )
    assert [m["id"] for m in found["messages"]] == ["M328", "M322"]


async def test_a_refused_connection_ends_in_one_error_naming_it(chat_workspace, tmp_path):
    workspace = copy_of(chat_workspace, tmp_path)
    closed = free_port()  # nothing listens there: connect() is refused at once
    set_provider_keys(workspace, PROVIDER, api_base_url=f"http://127.0.0.1:{closed}/api/v1")
    async with connect(workspace) as client:
        message = await failure(client, "get_my_mentions")
        info = await call(client, "provider_info")

    assert message == (
        f"{PROVIDER}: GET mentions still failed after {ATTEMPTS} attempts "
        "(could not connect: ConnectError); try again later"
    )
    assert info["api_base_url"] == f"http://127.0.0.1:{closed}/api/v1"


async def test_a_token_revoked_mid_session_names_the_command_that_fixes_it(
    chat_workspace, sandbox, tmp_path
):
    workspace = copy_of(chat_workspace, tmp_path)
    token = sign_in(workspace, sandbox)
    async with connect(workspace) as client:
        before = await call(client, "list_channels")
        revoked = httpx2.post(
            f"{sandbox.url}/oauth/revoke",
            data={"token": token["access_token"], "client_id": SANDBOX_CLIENT_ID},
            timeout=10,
        )
        message = await failure(client, "list_channels")
        again = await failure(client, "whoami")
        info = await call(client, "provider_info")

    assert revoked.status_code == 200
    assert len(before["channels"]) == 7
    assert message == (
        f"{PROVIDER} is not authenticated (the platform rejected the token: the access token "
        f"was revoked; sign in again): run `multichat auth {PROVIDER}`"
    )
    assert "401" in again or "not authenticated" in again
    assert info["provider"] == PROVIDER
    assert token["access_token"] not in message + again


# ---- tool time-outs and their configuration ----------------------------------------------


async def test_every_tool_gets_the_default_time_out_and_tool_timeout_overrides_it(
    chat_workspace, tmp_path
):
    server, _ = build_server(load_config(chat_workspace / "provider-config.yaml"))
    defaults = {tool.name: tool.timeout for tool in await server.list_tools()}
    workspace = copy_of(chat_workspace, tmp_path)
    set_provider_keys(workspace, PROVIDER, tool_timeout=12.5)
    server, _ = build_server(load_config(workspace / "provider-config.yaml"))
    configured = {tool.name: tool.timeout for tool in await server.list_tools()}

    assert len(defaults) == 15  # the twelve chat tools, mark_read, provider_info, whoami
    assert set(defaults.values()) == {60.0}
    assert set(configured.values()) == {12.5}


@pytest.mark.parametrize("value", ["0", "-3", ".inf", "soon"])
def test_tool_timeout_and_http_timeout_must_be_positive_numbers(tmp_path, value):
    for key in ("tool_timeout", "http_timeout"):
        path = tmp_path / key / "provider-config.yaml"
        path.parent.mkdir()
        path.write_text(f"providers:\n  alpha:\n    name: A\n    {key}: {value}\n")
        with pytest.raises(ConfigError) as refused:
            load_config(path)
        assert str(refused.value).startswith(f"{path}:4: `providers.alpha.{key}`:"), refused.value


# ---- faults of providers ---------------------------------------------------------------------

BROKEN_TOOLS = """
raise RuntimeError("the broken provider fails on import")
"""

FLAKY_TOOLS = '''
from ..mcp_instance import tool


@tool(read_only=True)
def explode() -> str:
    """Always fails."""
    raise ValueError("flaky blew up on purpose")
'''

STUCK_TOOLS = '''
import asyncio
import threading

from ..mcp_instance import tool

RELEASE = threading.Event()


@tool(read_only=True)
async def hang_async() -> str:
    """Never answers."""
    await asyncio.Event().wait()
    return "never"


@tool(read_only=True)
def hang_sync() -> str:
    """Blocks its thread until the test ends."""
    RELEASE.wait(120)
    return "released"
'''


@pytest.fixture(scope="module")
def mixed_workspace(sandbox: SandboxServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``chat`` (works), ``broken`` (import raises), ``flaky`` (tool raises), ``stuck`` (hangs)."""
    from multichat.generator.provider import add_provider

    folder = make_sandbox_workspace(tmp_path_factory.mktemp("mixed") / "ws", sandbox.url)
    for name, source in (("broken", BROKEN_TOOLS), ("flaky", FLAKY_TOOLS), ("stuck", STUCK_TOOLS)):
        add_provider(name, config_path=folder / "provider-config.yaml", data={"port": free_port()})
        tools = folder / "src" / "providers" / name / "tools" / "extra.py"
        tools.write_text(textwrap.dedent(source))
    set_provider_keys(folder, "stuck", tool_timeout=2)
    sign_in(folder, sandbox)
    return folder


@pytest.fixture
def release_stuck_threads() -> Iterator[None]:
    yield
    module = sys.modules.get("src.providers.stuck.tools.extra")
    if module is not None:
        module.RELEASE.set()


async def test_a_broken_raising_or_hung_provider_leaves_the_others_answering(
    mixed_workspace, release_stuck_threads
):
    server, report = build_server(load_config(mixed_workspace / "provider-config.yaml"))
    [failed] = report.failures
    finished: list[str] = []

    async def timed(name: str, tool: str, arguments: dict[str, Any]) -> Any:
        try:
            async with asyncio.timeout(CALL_BOUND):
                return await client.call_tool(tool, arguments)
        finally:
            finished.append(name)

    async with Client(server) as client:
        names = {tool.name for tool in await client.list_tools()}
        hung_async = asyncio.create_task(timed("hung async", "stuck_hang_async", {}))
        hung_sync = asyncio.create_task(timed("hung sync", "stuck_hang_sync", {}))
        await asyncio.sleep(0)  # both calls are in flight before the others start
        channels = await timed("chat", "chat_list_channels", {})
        info = await timed("stuck info", "stuck_provider_info", {})
        with pytest.raises(ToolError) as exploded:
            await timed("flaky", "flaky_explode", {})
        with pytest.raises(ToolError) as async_timeout:
            await hung_async
        with pytest.raises(ToolError) as sync_timeout:
            await hung_sync
        after = await timed("chat again", "chat_list_users", {})

    assert failed.name == "broken"
    assert "RuntimeError: the broken provider fails on import" in failed.reason
    assert "src.providers.broken.tools.extra" in failed.reason
    assert not any(name.startswith("broken_") for name in names)
    assert {"chat_list_channels", "flaky_explode", "stuck_hang_async"} <= names
    # The healthy calls finished while both hung calls were still running.
    assert finished.index("chat") < finished.index("hung async")
    assert finished.index("stuck info") < finished.index("hung sync")
    assert len(channels.structured_content["channels"]) == 7
    assert info.structured_content["provider"] == "stuck"
    assert "flaky blew up on purpose" in str(exploded.value)
    assert "Tool 'stuck_hang_async' execution timed out after 2.0s" in str(async_timeout.value)
    assert "Tool 'stuck_hang_sync' execution timed out after 2.0s" in str(sync_timeout.value)
    assert len(after.structured_content["users"]) == 8


def test_over_stdio_a_hung_call_times_out_while_other_calls_are_answered(mixed_workspace):
    with RawStdioSession(mixed_workspace) as session:
        session.initialize()
        session.send(
            {
                "jsonrpc": "2.0",
                "id": "hung",
                "method": "tools/call",
                "params": {"name": "stuck_hang_async", "arguments": {}},
            }
        )
        channels = session.call_tool("chat_list_channels", {"limit": 2})
        exploded = session.call_tool("flaky_explode", {})
        hung = session.response("hung")
        info = session.call_tool("stuck_provider_info", {})
    stdout_order = [line for line in session.stdout_text.splitlines() if '"id"' in line]

    assert "skipped provider broken" in session.stderr_text
    assert channels["result"].get("isError") is not True
    assert "flaky blew up on purpose" in tool_error_text(exploded)
    assert "Tool 'stuck_hang_async' execution timed out after 2.0s" in tool_error_text(hung)
    assert info["result"]["structuredContent"]["provider"] == "stuck"
    # The answer to the call made after the hung one came first.
    first_chat = next(i for i, line in enumerate(stdout_order) if '"id":2' in line)
    first_hung = next(i for i, line in enumerate(stdout_order) if '"id":"hung"' in line)
    assert first_chat < first_hung
