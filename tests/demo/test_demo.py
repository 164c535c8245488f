"""``multichat demo`` as a user runs it: a subprocess, its printed steps, and a kept workspace.

The kept workspace is then served again the way the demo says (``multichat sandbox`` on the same
port and database) and a real MCP client talks to ``multichat run`` over stdio.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx2
import pytest
from helpers import clean_env, stop_process

DEMO_TIMEOUT = 120
WAIT = 30.0
CHAT_TOOLS = {
    "list_channels",
    "get_channel_history",
    "get_thread",
    "send_message",
    "reply_to_thread",
    "edit_message",
    "delete_message",
    "add_reaction",
    "search_messages",
    "list_users",
    "get_my_mentions",
    "catch_up",
}


def demo(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "multichat", "demo", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=DEMO_TIMEOUT,
        env=clean_env(),
        stdin=subprocess.DEVNULL,
        check=False,
    )


def step_lines(stdout: str) -> dict[str, str]:
    """The demo's ``✓ step  detail`` lines, by step name."""
    steps: dict[str, str] = {}
    for line in stdout.splitlines():
        match = re.match(r"✓ (\S+)\s+(.*)$", line.strip())
        if match:
            steps[match[1]] = match[2]
    return steps


def check_tool_calls(steps: dict[str, str]) -> None:
    assert steps["mcp"] == "`multichat run` over stdio lists 15 tools"
    assert steps["catch_up"].startswith("58 unread in 6 channels (")
    assert steps["search_messages"] == "'flamegraph' -> M328, M322"
    assert re.fullmatch(r"posted M\d+ in #general", steps["send_message"])
    assert steps["get_thread"] == "M322: 3 replies, started by Grace Hopper"


def test_the_demo_runs_end_to_end_and_cleans_up(tmp_path):
    result = demo(cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    steps = step_lines(result.stdout)
    assert list(steps) == [
        "workspace",
        "sandbox",
        "provider",
        "sign-in",
        "mcp",
        "catch_up",
        "search_messages",
        "send_message",
        "get_thread",
    ]
    check_tool_calls(steps)
    assert "everything it started is stopped" in result.stdout
    assert not Path(steps["workspace"]).exists()
    assert "The workspace is kept" not in result.stdout


def serve_sandbox(port: int, database: Path) -> subprocess.Popen[str]:
    """``multichat sandbox`` in the background, once it answers on ``port``."""
    process = subprocess.Popen(
        [sys.executable, "-m", "multichat", "sandbox", "--port", str(port), "--db", str(database)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=clean_env(),
    )
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"`multichat sandbox --port {port}` exited {process.returncode}")
        try:
            if httpx2.get(f"http://127.0.0.1:{port}/", timeout=2).status_code == 200:
                return process
        except httpx2.TransportError:
            pass
        time.sleep(0.1)
    process.kill()
    process.wait(timeout=WAIT)
    pytest.fail(f"`multichat sandbox --port {port}` did not answer within {WAIT} s")


async def use_over_stdio(workspace: Path) -> tuple[set[str], Any, Any]:
    from fastmcp import Client
    from fastmcp.client.transports import StdioTransport

    transport = StdioTransport(
        command=sys.executable, args=["-m", "multichat", "run"], cwd=str(workspace)
    )
    async with Client(transport, timeout=60) as client:
        names = {tool.name for tool in await client.list_tools()}
        found = await client.call_tool("sandbox_search_messages", {"query": "flamegraph"})
        general = await client.call_tool(
            "sandbox_get_channel_history", {"channel_id": "C01", "limit": 5}
        )
    return names, found.structured_content, general.structured_content


def test_dir_keeps_a_workspace_that_an_mcp_client_can_use_later(tmp_path):
    kept = tmp_path / "kept"
    result = demo("--dir", str(kept), cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    check_tool_calls(step_lines(result.stdout))
    assert "The workspace is kept" in result.stdout
    assert "MCP client config:" in result.stdout
    assert f"cd {kept} && uv run multichat run" in result.stdout
    token = kept / "src" / "providers" / "sandbox" / "token.json"
    assert token.is_file()
    assert token.stat().st_mode & 0o777 == 0o600
    database = kept / ".multichat" / "sandbox.db"
    assert database.is_file()
    command = re.search(r"multichat sandbox --port (\d+) --db (\S+)", result.stdout)
    assert command is not None, result.stdout
    assert Path(command[2]) == database
    port = int(command[1])
    assert f"http://127.0.0.1:{port}/api/v1" in (kept / "provider-config.yaml").read_text()

    sandbox = serve_sandbox(port, database)
    try:
        names, found, general = asyncio.run(use_over_stdio(kept))
    finally:
        stop_process(sandbox, WAIT)

    assert {f"sandbox_{name}" for name in CHAT_TOOLS} <= names
    assert [message["id"] for message in found["messages"]] == ["M328", "M322"]
    # The message the demo sent is still in the kept database.
    assert "Hello from the multichat demo!" in general["messages"][0]["text"]


def test_a_failing_step_exits_1_with_one_line_naming_it(tmp_path):
    occupied = tmp_path / "occupied"
    occupied.mkdir()
    (occupied / "notes.txt").write_text("mine")

    result = demo("--dir", str(occupied), cwd=tmp_path)

    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("multichat: error: make a workspace: ")
    assert "is not empty" in lines[0]
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in occupied.iterdir()) == ["notes.txt"]
