"""A provider written by hand to GUIDE.md, served by `multichat run` and `python -m src.server`."""

import json
import subprocess
import sys

import pytest
from e2e_support import (
    stdio_client,
    tool_names,
    wait_for_http,
    write_guide_provider,
)
from fastmcp.exceptions import ToolError
from helpers import MULTICHAT, clean_env, free_port, stop_process

pytestmark = pytest.mark.e2e

GUIDE_TOOLS = ["chatplatform_room_url", "chatplatform_send_chat_message"]


@pytest.fixture
def ws(copy_workspace):
    workspace = copy_workspace()
    write_guide_provider(workspace)
    return workspace


async def _check_guide_tools(client, expected):
    assert await tool_names(client) == expected
    tools = {tool.name: tool for tool in await client.list_tools()}
    schema = tools["chatplatform_send_chat_message"].input_schema
    assert set(schema["properties"]) == {"room_id", "message"}
    url = await client.call_tool("chatplatform_room_url", {"room_id": "general"})
    assert url.data == "https://chatplatform.com/rooms/general"
    # not signed in: the guide's own error travels to the client
    with pytest.raises(ToolError, match="Not authenticated"):
        await client.call_tool(
            "chatplatform_send_chat_message", {"room_id": "general", "message": "hi"}
        )


async def test_guide_provider_serves_under_multichat_run(ws, tmp_path):
    log = tmp_path / "stderr.log"
    async with stdio_client(MULTICHAT, ["run"], ws, log_file=log) as client:
        await _check_guide_tools(
            client,
            sorted(
                [
                    *GUIDE_TOOLS,
                    "alpha_provider_info",
                    "alpha_whoami",
                    "beta_provider_info",
                    "beta_whoami",
                ]
            ),
        )
    assert "skipped provider" not in log.read_text()


async def test_guide_provider_serves_under_python_m_src_server(ws, tmp_path):
    log = tmp_path / "stderr.log"
    args = ["-m", "src.server", "--provider", "chatplatform"]
    async with stdio_client(sys.executable, args, ws, log_file=log) as client:
        await _check_guide_tools(client, GUIDE_TOOLS)
    assert "skipped provider" not in log.read_text()


def test_guide_local_auth_serves_status(ws, reap, tmp_path):
    port = free_port()
    log = tmp_path / "auth.log"
    with log.open("w") as sink:
        process = reap(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "src.server",
                    "--provider",
                    "chatplatform",
                    "--local-auth",
                    "--port",
                    str(port),
                ],
                cwd=ws,
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
                env=clean_env(),
            )
        )

    status, body = wait_for_http(f"http://127.0.0.1:{port}/status", process, log)

    assert status == 200, body
    assert json.loads(body) == {"authenticated": False}
    assert process.poll() is None, log.read_text()
    stop_process(process)
    assert process.returncode is not None
    assert f":{port}" in log.read_text()
