"""``multichat run --transport http --stateless`` (issue 23): no MCP session, so one client's
requests may each go to a different instance, as a load balancer without sticky sessions sends
them. Two real server processes; the client initializes at one and calls a tool at the other.
"""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from helpers import MULTICHAT, clean_env, free_port, run_cli, stop_process

TOKEN = "mc-stateless-" + "s" * 24
HEADERS = {
    "Accept": "application/json, text/event-stream",
    "MCP-Protocol-Version": "2025-06-18",
    "Authorization": f"Bearer {TOKEN}",
}


def _start(workspace: Path, port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [MULTICHAT, "run", "--transport", "http", "--stateless", "--port", str(port)],
        cwd=workspace,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=clean_env(MULTICHAT_HTTP_TOKEN=TOKEN),
    )


def _wait_listening(process: subprocess.Popen[bytes], port: int) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"server exited: {process.stderr.read() if process.stderr else b''!r}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return
        time.sleep(0.1)
    pytest.fail(f"nothing listened on port {port} within 120 s")


@pytest.fixture
def two_instances(workspace: Path, add_provider: Any) -> Iterator[list[str]]:
    """Two stateless servers of one workspace; their /mcp URLs."""
    add_provider("alpha")
    ports = [free_port(), free_port()]
    processes = [_start(workspace, port) for port in ports]
    try:
        for process, port in zip(processes, ports, strict=True):
            _wait_listening(process, port)
        yield [f"http://127.0.0.1:{port}/mcp" for port in ports]
    finally:
        for process in processes:
            stop_process(process)


def _answer(response: httpx2.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    if response.headers["content-type"].startswith("text/event-stream"):
        data = [line[5:] for line in response.text.splitlines() if line.startswith("data:")]
        return dict(json.loads(data[-1]))
    return dict(response.json())


def test_one_client_initializes_at_one_instance_and_calls_a_tool_at_the_other(
    two_instances: list[str],
):
    first, second = two_instances
    with httpx2.Client(headers=HEADERS, timeout=30) as http:
        opened = http.post(
            first,
            json={
                "jsonrpc": "2.0",
                "id": 1,
                "method": "initialize",
                "params": {
                    "protocolVersion": "2025-06-18",
                    "capabilities": {},
                    "clientInfo": {"name": "stateless-test", "version": "0"},
                },
            },
        )
        assert "mcp-session-id" not in opened.headers  # nothing ties the client to this one
        assert _answer(opened)["result"]["serverInfo"]
        initialized = http.post(
            second, json={"jsonrpc": "2.0", "method": "notifications/initialized"}
        )
        assert initialized.status_code == 202, initialized.text
        called = _answer(
            http.post(
                second,
                json={
                    "jsonrpc": "2.0",
                    "id": 2,
                    "method": "tools/call",
                    "params": {"name": "alpha_provider_info", "arguments": {}},
                },
            )
        )
    assert called["result"]["isError"] is False, called
    assert "alpha" in json.dumps(called["result"]["content"])


def test_stateless_is_refused_with_stdio(workspace: Path, add_provider: Any):
    add_provider("alpha")
    result = run_cli("run", "--stateless", cwd=workspace, timeout=60)
    assert result.returncode == 2
    assert "--stateless applies to --transport http only" in result.stderr
