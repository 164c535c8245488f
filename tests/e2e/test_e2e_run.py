"""`multichat run`: one MCP server for every provider, over stdio and streamable HTTP."""

import json
import subprocess
import sys
import time

import pytest
from e2e_support import (
    DEADLINE,
    LinePump,
    dedent,
    send_json,
    stdio_client,
    tool_names,
    wait_for_http,
    wait_for_response,
)
from fastmcp import Client
from fastmcp.exceptions import ToolError
from helpers import MULTICHAT, clean_env, free_port

pytestmark = pytest.mark.e2e

ALL_TOOLS = ["alpha_provider_info", "alpha_whoami", "beta_provider_info", "beta_whoami"]


@pytest.fixture
def ws(copy_workspace):
    return copy_workspace()


async def test_stdio_serves_every_provider(ws):
    config = ws / "provider-config.yaml"
    text = config.read_text(encoding="utf-8")
    assert text.count('name: "Alpha"') == 1
    config.write_text(text.replace('name: "Alpha"', 'name: "Alpha Team Chat"'), encoding="utf-8")

    async with stdio_client(MULTICHAT, ["run"], ws) as client:
        assert await tool_names(client) == ALL_TOOLS

        info = await client.call_tool("alpha_provider_info", {})
        assert info.data["provider"] == "alpha"
        assert info.data["name"] == "Alpha Team Chat"
        assert info.data["scopes"] == []
        assert info.data["authenticated"] is False

        with pytest.raises(ToolError, match="multichat auth beta"):
            await client.call_tool("beta_whoami", {})


async def test_stdio_serves_one_provider(ws):
    async with stdio_client(MULTICHAT, ["run", "--provider", "alpha"], ws) as client:
        assert await tool_names(client) == ["alpha_provider_info", "alpha_whoami"]


async def test_guide_command_serves_a_generated_provider(ws):
    args = ["-m", "src.server", "--provider", "alpha"]
    async with stdio_client(sys.executable, args, ws) as client:
        assert await tool_names(client) == ["alpha_provider_info", "alpha_whoami"]
        info = await client.call_tool("alpha_provider_info", {})
        assert info.data["provider"] == "alpha"


async def test_a_provider_that_fails_to_import_is_skipped(ws, tmp_path):
    (ws / "src/providers/beta/mcp_instance.py").write_text(
        'raise RuntimeError("beta is broken on purpose")\n', encoding="utf-8"
    )
    log = tmp_path / "stderr.log"

    async with stdio_client(MULTICHAT, ["run"], ws, log_file=log) as client:
        assert await tool_names(client) == ["alpha_provider_info", "alpha_whoami"]
        info = await client.call_tool("alpha_provider_info", {})
        assert info.data["provider"] == "alpha"

    stderr = log.read_text()
    reports = [line for line in stderr.splitlines() if "skipped provider beta" in line]
    assert reports, stderr
    assert "broken on purpose" in reports[0]
    assert "Traceback" not in stderr


def test_unknown_provider_is_one_line(ws):
    result = subprocess.run(
        [MULTICHAT, "run", "--provider", "nope"],
        cwd=ws,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=DEADLINE,
        env=clean_env(),
        check=False,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "nope" in lines[0]
    assert "alpha, beta" in lines[0]


def test_a_workspace_without_providers_says_what_to_do(workspace):
    result = subprocess.run(
        [MULTICHAT, "run"],
        cwd=workspace,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=DEADLINE,
        env=clean_env(),
        check=False,
    )
    assert result.returncode != 0
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "multichat new provider" in lines[0]


@pytest.mark.parametrize("buffered", [True, False], ids=["buffered", "PYTHONUNBUFFERED"])
def test_stdout_carries_only_json_rpc(ws, reap, buffered):
    """Spoken by hand: every byte on stdout is JSON-RPC, even when a provider prints (into
    Python's buffered stdout, as most users run it, or unbuffered)."""
    (ws / "src/providers/alpha/tools/noisy.py").write_text(
        dedent(
            '''
            """A tool module that prints, as hand-written code does."""

            from ..mcp_instance import tool

            print("NOISY-IMPORT-MARKER")


            @tool(read_only=True)
            def shout() -> str:
                """Say hello (and print while doing it)."""
                print("NOISY-CALL-MARKER")
                return "hello"
            '''
        ),
        encoding="utf-8",
    )
    process = reap(
        subprocess.Popen(
            [MULTICHAT, "run"],
            cwd=ws,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={
                key: value
                for key, value in clean_env(PYTHONUNBUFFERED="1").items()
                if not (buffered and key == "PYTHONUNBUFFERED")
            },
        )
    )
    stdout, stderr = LinePump(process.stdout), LinePump(process.stderr)
    deadline = time.monotonic() + DEADLINE

    send_json(
        process,
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "by-hand", "version": "0"},
            },
        },
    )
    initialized = wait_for_response(stdout, 1, deadline)
    assert initialized["result"]["serverInfo"]["name"] == "multichat"
    send_json(process, {"jsonrpc": "2.0", "method": "notifications/initialized"})
    send_json(process, {"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
    listed = wait_for_response(stdout, 2, deadline)
    names = sorted(tool["name"] for tool in listed["result"]["tools"])
    assert names == sorted([*ALL_TOOLS, "alpha_shout"])
    send_json(
        process,
        {
            "jsonrpc": "2.0",
            "id": 3,
            "method": "tools/call",
            "params": {"name": "alpha_shout", "arguments": {}},
        },
    )
    called = wait_for_response(stdout, 3, deadline)
    assert "error" not in called, called
    assert called["result"]["structuredContent"] == {"result": "hello"}

    assert process.stdin is not None
    process.stdin.close()
    process.wait(timeout=DEADLINE)
    out_lines = stdout.drain()
    err_text = "".join(stderr.drain())

    assert out_lines
    for line in out_lines:
        message = json.loads(line)
        assert message["jsonrpc"] == "2.0", line
    assert "NOISY" not in "".join(out_lines)
    assert "NOISY-IMPORT-MARKER" in err_text
    assert "NOISY-CALL-MARKER" in err_text


async def test_http_serves_every_provider(ws, reap, tmp_path):
    port = free_port()
    log = tmp_path / "server.log"
    with log.open("w") as sink:
        process = reap(
            subprocess.Popen(
                [MULTICHAT, "run", "--transport", "http", "--port", str(port)],
                cwd=ws,
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
                env=clean_env(),
            )
        )
    wait_for_http(f"http://127.0.0.1:{port}/mcp", process, log)
    token = (ws / ".multichat" / "http-token").read_text().strip()  # made by this first run

    async with Client(f"http://127.0.0.1:{port}/mcp", auth=token, timeout=DEADLINE) as client:
        assert await tool_names(client) == ALL_TOOLS
        info = await client.call_tool("beta_provider_info", {})
        assert info.data["provider"] == "beta"
        assert info.data["authenticated"] is False
        with pytest.raises(ToolError, match="multichat auth alpha"):
            await client.call_tool("alpha_whoami", {})

    assert process.poll() is None, log.read_text()
