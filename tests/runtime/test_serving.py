"""``multichat run``'s serving path, over stdio with a real MCP client."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import pytest
from fastmcp import Client
from fastmcp.client.transports import StdioTransport
from helpers import INITIALIZE_LINE, MULTICHAT, clean_env, stop_process

GC_STATE = '''\
"""Reports the garbage collector's state in the serving process."""

import gc

from ..mcp_instance import tool


@tool(read_only=True)
def gc_state() -> dict:
    """Whether the collector runs, and whether start-up's objects were frozen out of it."""
    return {"collecting": gc.isenabled(), "frozen": gc.get_freeze_count() > 0}
'''


async def test_start_up_objects_are_frozen_out_of_the_collector_which_still_runs(
    workspace: Path, add_provider
) -> None:
    folder = add_provider("alpha")
    (folder / "tools" / "gc_state.py").write_text(GC_STATE)

    transport = StdioTransport(command=MULTICHAT, args=["run"], cwd=str(workspace), env=clean_env())
    async with Client(transport, timeout=60) as client:
        result = await client.call_tool("alpha_gc_state", {})

    assert result.structured_content == {"collecting": True, "frozen": True}


EXITING_TOOL = '''\
"""A tool that calls sys.exit, as a careless provider might."""

import sys

from ..mcp_instance import tool


@tool(read_only=True)
def leave() -> str:
    """Exit the process."""
    sys.exit(3)
'''


async def test_a_tool_calling_sys_exit_fails_that_call_and_the_server_serves_on(
    workspace: Path, add_provider
) -> None:
    (add_provider("beta") / "tools" / "leave.py").write_text(EXITING_TOOL)
    add_provider("alpha")

    transport = StdioTransport(command=MULTICHAT, args=["run"], cwd=str(workspace), env=clean_env())
    async with Client(transport, timeout=60) as client:
        failed = await client.call_tool("beta_leave", {}, raise_on_error=False)
        served = await client.call_tool("alpha_provider_info", {})

    assert failed.is_error
    assert "leave called sys.exit(3); the server kept running" in failed.content[0].text
    assert served.structured_content is not None


@pytest.mark.parametrize("loop", ["uvloop", "asyncio"])
@pytest.mark.parametrize(
    ("stop", "expected"),
    [
        (signal.SIGINT, 130),  # Ctrl-C: it waited for the client's next line before
        # How an MCP client ends a server that stays after stdin closes (exit 0, no output):
        # https://modelcontextprotocol.io/specification/2025-06-18/basic/lifecycle#stdio
        (signal.SIGTERM, 0),
    ],
    ids=["SIGINT", "SIGTERM"],
)
def test_a_signal_stops_a_stdio_server_whose_client_keeps_stdin_open(
    workspace: Path, add_provider, loop: str, stop: signal.Signals, expected: int
) -> None:
    add_provider("alpha")
    process = subprocess.Popen(
        [MULTICHAT, "run"],
        cwd=workspace,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=clean_env(MULTICHAT_EVENT_LOOP=loop),
    )
    try:
        assert process.stdin is not None
        assert process.stdout is not None
        process.stdin.write(INITIALIZE_LINE.encode())
        process.stdin.flush()
        assert b'"result"' in process.stdout.readline()  # serving, stdin still open
        process.send_signal(stop)
        code = process.wait(timeout=20)
        assert process.stderr is not None
        errors = process.stderr.read()
    finally:
        stop_process(process)
    assert code == expected, errors
    assert b"Traceback" not in errors
    if stop == signal.SIGTERM:
        assert errors == b""
