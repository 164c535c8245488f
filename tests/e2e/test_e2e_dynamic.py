"""Dynamic mode and toolsets: what `tools/list` shows, and a client enabling toolsets.

A real fastmcp ``Client`` follows ``notifications/tools/list_changed`` over stdio and over HTTP,
and the TypeScript SDK's client (npm) does the same over stdio.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from e2e_support import DEADLINE, dedent, tool_names, wait_for_http
from fastmcp import Client
from fastmcp.exceptions import ToolError
from helpers import (
    MULTICHAT,
    clean_env,
    free_port,
    install_npm_tool,
    run_cli,
    set_provider_keys,
)

pytestmark = pytest.mark.e2e

ALWAYS = ["multichat_enable_toolset", "multichat_list_toolsets"]
ALPHA_READ = ["alpha_peek", "alpha_provider_info", "alpha_whoami"]
ALPHA_WRITE = ["alpha_post_note"]
TS_CLIENT = Path(__file__).with_name("ts_dynamic_client.mjs")
TS_SDK_VERSION = "1.32.2"


@pytest.fixture
def ws(copy_workspace):
    """The alpha+beta workspace, alpha with one reading and one writing tool of its own."""
    workspace = copy_workspace()
    (workspace / "src/providers/alpha/tools/notes.py").write_text(
        dedent(
            '''
            """A reader and a writer, to tell the toolsets apart."""

            from ..mcp_instance import tool


            @tool(read_only=True)
            def peek() -> str:
                """Look without changing anything."""
                return "peeked"


            @tool(read_only=False)
            def post_note(text: str) -> str:
                """Post a note."""
                return f"posted {text}"
            '''
        ),
        encoding="utf-8",
    )
    return workspace


class ListChanges:
    """A client's message handler that counts ``tools/list_changed`` notifications."""

    def __init__(self) -> None:
        self.count = 0
        self.arrived = asyncio.Event()

    async def __call__(self, message: Any) -> None:
        if type(message).__name__ == "ToolListChangedNotification":
            self.count += 1
            self.arrived.set()


@asynccontextmanager
async def stdio_client(ws: Path, args: list[str], changes: ListChanges) -> AsyncIterator[Any]:
    from fastmcp.client.transports import StdioTransport

    transport = StdioTransport(command=MULTICHAT, args=args, cwd=str(ws), keep_alive=False)
    async with Client(
        transport, timeout=DEADLINE, init_timeout=DEADLINE, message_handler=changes
    ) as client:
        yield client


async def enable_and_follow(client: Any, changes: ListChanges, **arguments: str) -> list[str]:
    """Enable a toolset, wait for the notification, and list again as a client would."""
    result = await client.call_tool("multichat_enable_toolset", arguments)
    await asyncio.wait_for(changes.arrived.wait(), DEADLINE)
    changes.arrived.clear()
    assert result.structured_content["enabled_tools"]
    return await tool_names(client)


async def test_dynamic_stdio_lists_two_tools_then_what_the_client_enables(ws):
    changes = ListChanges()
    async with stdio_client(ws, ["run", "--dynamic"], changes) as client:
        first = await tool_names(client)
        with pytest.raises(ToolError, match="Unknown tool"):
            await client.call_tool("alpha_peek", {})
        listed = (await client.call_tool("multichat_list_toolsets", {})).structured_content
        after_read = await enable_and_follow(client, changes, provider="alpha", toolset="read")
        peeked = await client.call_tool("alpha_peek", {})
        with pytest.raises(ToolError, match="Unknown tool"):
            await client.call_tool("alpha_post_note", {"text": "x"})
        after_write = await enable_and_follow(client, changes, provider="alpha", toolset="write")
        posted = await client.call_tool("alpha_post_note", {"text": "x"})
        again = (await client.call_tool("multichat_list_toolsets", {})).structured_content

    assert first == ALWAYS
    assert listed["providers"]["alpha"]["read"] == {"tools": ALPHA_READ, "enabled": False}
    assert listed["providers"]["alpha"]["write"] == {"tools": ALPHA_WRITE, "enabled": False}
    assert sorted(listed["providers"]) == ["alpha", "beta"]
    assert after_read == sorted(ALWAYS + ALPHA_READ)
    assert peeked.data == "peeked"
    assert after_write == sorted(ALWAYS + ALPHA_READ + ALPHA_WRITE)
    assert posted.data == "posted x"
    assert changes.count == 2
    assert again["providers"]["alpha"]["read"]["enabled"] is True
    assert again["providers"]["beta"]["all"]["enabled"] is False


async def test_a_toolset_never_enables_what_the_config_hides(ws):
    set_provider_keys(ws, "alpha", enabled_tools=["peek", "post_note"], read_only=True)
    changes = ListChanges()
    async with stdio_client(ws, ["run", "--dynamic"], changes) as client:
        after = await enable_and_follow(client, changes, provider="alpha", toolset="all")
        with pytest.raises(ToolError, match="Unknown tool"):
            await client.call_tool("alpha_post_note", {"text": "x"})
        with pytest.raises(ToolError, match="no provider 'gamma' here"):
            await client.call_tool(
                "multichat_enable_toolset", {"provider": "gamma", "toolset": "read"}
            )

    assert after == sorted([*ALWAYS, "alpha_peek"])


async def test_server_dynamic_in_the_config_is_the_same_switch(ws):
    config = ws / "provider-config.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "server:\n  dynamic: true\n")
    changes = ListChanges()
    async with stdio_client(ws, ["run"], changes) as client:
        assert await tool_names(client) == ALWAYS


async def test_toolsets_in_the_config_serve_only_those_groups(ws):
    set_provider_keys(ws, "alpha", toolsets=["write"])
    set_provider_keys(ws, "beta", toolsets=["read"])
    changes = ListChanges()
    async with stdio_client(ws, ["run"], changes) as client:
        names = await tool_names(client)

    assert names == ["alpha_post_note", "beta_provider_info", "beta_whoami"]


def test_an_unknown_toolset_in_the_config_is_one_line(ws):
    set_provider_keys(ws, "alpha", toolsets=["everything"])
    done = run_cli("run", cwd=ws, timeout=DEADLINE)

    assert done.returncode != 0
    assert "toolsets" in done.stderr
    assert "Traceback" not in done.stderr


async def test_dynamic_over_http_follows_the_notification(ws, reap, tmp_path):
    port = free_port()
    log = tmp_path / "server.log"
    with log.open("w") as sink:
        process = reap(
            subprocess.Popen(
                [MULTICHAT, "run", "--transport", "http", "--port", str(port), "--dynamic"],
                cwd=ws,
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
                env=clean_env(),
            )
        )
    wait_for_http(f"http://127.0.0.1:{port}/mcp", process, log)
    token = (ws / ".multichat" / "http-token").read_text().strip()
    changes = ListChanges()

    async with Client(
        f"http://127.0.0.1:{port}/mcp", auth=token, timeout=DEADLINE, message_handler=changes
    ) as client:
        first = await tool_names(client)
        after = await enable_and_follow(client, changes, provider="beta", toolset="read")
        info = await client.call_tool("beta_provider_info", {})

    assert first == ALWAYS
    assert after == sorted([*ALWAYS, "beta_provider_info", "beta_whoami"])
    assert info.structured_content["provider"] == "beta"
    assert process.poll() is None, log.read_text()


def test_the_typescript_sdk_client_follows_the_notification(ws):
    script = install_npm_tool("@modelcontextprotocol/sdk", TS_SDK_VERSION, TS_CLIENT)
    done = subprocess.run(
        ["node", str(script), MULTICHAT, str(ws)],
        capture_output=True,
        text=True,
        timeout=DEADLINE * 2,
        env=clean_env(),
        check=False,
    )

    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["first"] == ALWAYS
    assert report["notified"] is True
    assert report["after"] == sorted(ALWAYS + ALPHA_READ)
    assert report["peek"] == "peeked"


def test_dynamic_and_stateless_together_are_refused_in_one_line(ws):
    done = run_cli("run", "--transport", "http", "--stateless", "--dynamic", cwd=ws)

    assert done.returncode == 2, done.stderr
    assert "dynamic mode keeps each client's toolsets in one process" in done.stderr
    assert "Traceback" not in done.stderr
