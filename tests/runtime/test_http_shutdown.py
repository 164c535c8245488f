"""``multichat run --transport http`` stopped while a tool call runs: Ctrl-C and SIGTERM."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import anyio.to_thread
import httpx2
import pytest
from fastmcp import Client
from helpers import (
    HTTP_TOKEN,
    INITIALIZE_REQUEST,
    LinePump,
    free_port,
    serving_http,
    wait_for_line,
)

DEADLINE = 60.0

WAITING_TOOL = '''\
"""A tool that runs until a file appears, so that a test can stop the server meanwhile."""

import asyncio
import sys
from pathlib import Path

from ..mcp_instance import tool


@tool(read_only=True)
async def wait_for(path: str) -> str:
    """Say on stderr that it started, then wait (50 s at most) for ``path`` to exist."""
    print("wait_for: started", file=sys.stderr, flush=True)
    for _ in range(1000):
        if Path(path).exists():
            return "released"
        await asyncio.sleep(0.05)
    return "gave up"
'''

STARTED = "wait_for: started"
STOPPED = "multichat: stopped while 1 call was in flight (cancelled)\n"


def other_lines(errors: LinePump) -> list[str]:
    """What the server said on stderr besides its URL and the tool's own line."""
    return [
        line
        for line in errors.seen
        if not line.startswith("multichat: serving MCP at") and STARTED not in line
    ]


async def wait_for_line_async(errors: LinePump, text: str, deadline: float) -> str:
    """:func:`wait_for_line` off the event loop, so the client's call goes on meanwhile."""
    return await anyio.to_thread.run_sync(wait_for_line, errors, text, deadline)


@pytest.mark.parametrize("loop", ["uvloop", "asyncio"])
async def test_ctrl_c_cancels_a_call_in_flight_with_one_line_and_exits_130(
    workspace: Path, add_provider: Callable[..., Path], tmp_path: Path, loop: str
) -> None:
    (add_provider("alpha") / "tools" / "wait_for.py").write_text(WAITING_TOOL)
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    with serving_http(workspace, "--port", str(port), MULTICHAT_EVENT_LOOP=loop) as served:
        process, errors = served
        deadline = time.monotonic() + DEADLINE
        await wait_for_line_async(errors, "serving MCP at", deadline)
        client = Client(url, auth=HTTP_TOKEN, timeout=DEADLINE)
        async with client:
            await client.list_tools()  # else the client lists them after the call
            call = asyncio.create_task(
                client.call_tool("alpha_wait_for", {"path": str(tmp_path / "never")})
            )
            await wait_for_line_async(errors, STARTED, deadline)
            process.send_signal(signal.SIGINT)
            with pytest.raises(Exception, match="the server is stopping") as refused:
                await call
            code = await anyio.to_thread.run_sync(process.wait, DEADLINE)
        errors.join(DEADLINE)

    assert code == 130, "".join(errors.seen)
    assert other_lines(errors) == [STOPPED], "".join(errors.seen)
    assert "Traceback" not in str(refused.value)


async def test_sigterm_lets_a_call_in_flight_finish_then_exits_0(
    workspace: Path, add_provider: Callable[..., Path], tmp_path: Path
) -> None:
    (add_provider("alpha") / "tools" / "wait_for.py").write_text(WAITING_TOOL)
    release = tmp_path / "release"
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    # INFO: uvicorn says when it has begun to stop, so the call is released only after that.
    with serving_http(workspace, "--port", str(port), "--log-level", "INFO") as served:
        process, errors = served
        deadline = time.monotonic() + DEADLINE
        await wait_for_line_async(errors, "serving MCP at", deadline)
        client = Client(url, auth=HTTP_TOKEN, timeout=DEADLINE)
        async with client:
            await client.list_tools()
            call = asyncio.create_task(client.call_tool("alpha_wait_for", {"path": str(release)}))
            await wait_for_line_async(errors, STARTED, deadline)
            process.send_signal(signal.SIGTERM)
            await wait_for_line_async(errors, "Shutting down", deadline)
            release.touch()
            result = await call
            code = await anyio.to_thread.run_sync(process.wait, DEADLINE)
        errors.join(DEADLINE)

    assert result.structured_content == {"result": "released"}
    assert code == 0, "".join(errors.seen)
    assert "Traceback" not in "".join(errors.seen)
    assert " ERROR " not in "".join(errors.seen)


async def test_a_second_ctrl_c_ends_the_grace_window_quietly(
    workspace: Path, add_provider: Callable[..., Path], tmp_path: Path
) -> None:
    (add_provider("alpha") / "tools" / "wait_for.py").write_text(WAITING_TOOL)
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    # INFO: uvicorn says when it has begun to stop, so the second Ctrl-C comes during the grace.
    with serving_http(workspace, "--port", str(port), "--log-level", "INFO") as served:
        process, errors = served
        deadline = time.monotonic() + DEADLINE
        await wait_for_line_async(errors, "serving MCP at", deadline)
        client = Client(url, auth=HTTP_TOKEN, timeout=DEADLINE)
        async with client:
            await client.list_tools()
            call = asyncio.create_task(
                client.call_tool("alpha_wait_for", {"path": str(tmp_path / "never")})
            )
            await wait_for_line_async(errors, STARTED, deadline)
            process.send_signal(signal.SIGINT)
            await wait_for_line_async(errors, "Shutting down", deadline)
            process.send_signal(signal.SIGINT)
            with pytest.raises(Exception, match="the server is stopping"):
                await call
            code = await anyio.to_thread.run_sync(process.wait, DEADLINE)
        seen = errors.join(DEADLINE)

    assert code == 130, seen
    assert STOPPED in errors.seen, seen
    # uvicorn's own second Ctrl-C skipped the application's shutdown: a traceback of its task
    assert "Traceback" not in seen
    assert " ERROR " not in seen


def test_ctrl_c_ends_a_call_streamed_to_a_2025_session_quietly(
    workspace: Path, add_provider: Callable[..., Path], tmp_path: Path
) -> None:
    (add_provider("alpha") / "tools" / "wait_for.py").write_text(WAITING_TOOL)
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    headers = {
        "authorization": f"Bearer {HTTP_TOKEN}",
        "accept": "application/json, text/event-stream",
    }
    call = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": "alpha_wait_for", "arguments": {"path": str(tmp_path / "never")}},
    }
    with (
        serving_http(workspace, "--port", str(port)) as (process, errors),
        httpx2.Client(timeout=DEADLINE) as http,
        ThreadPoolExecutor(1) as pool,
    ):
        deadline = time.monotonic() + DEADLINE
        wait_for_line(errors, "serving MCP at", deadline)
        # A 2025-06-18 session: the SDK answers its calls as SSE streams (sse-starlette's).
        opened = http.post(url, headers=headers, json=INITIALIZE_REQUEST)
        headers |= {
            "mcp-session-id": opened.headers["mcp-session-id"],
            "mcp-protocol-version": "2025-06-18",
        }
        http.post(
            url, headers=headers, json={"jsonrpc": "2.0", "method": "notifications/initialized"}
        )
        answer = pool.submit(http.post, url, headers=headers, json=call)
        wait_for_line(errors, STARTED, deadline)
        process.send_signal(signal.SIGINT)
        response = answer.result(timeout=DEADLINE)  # the stream ends, not the connection
        code = process.wait(timeout=DEADLINE)
        errors.join(DEADLINE)

    assert code == 130
    assert response.status_code == 200
    assert '"result"' not in response.text
    assert other_lines(errors) == [STOPPED], "".join(errors.seen)
