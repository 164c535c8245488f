"""Every teams tool once through ``multichat run`` over stdio, with a real MCP client.

The server is the installed console script in a subprocess, started in the workspace (as an
MCP client starts it), signed in through ``MULTICHAT_TEAMS_TOKEN``, talking to the fake Graph
on 127.0.0.1.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from fastmcp import Client
from fastmcp.client.transports import StdioTransport
from graph_world import GENERAL, GENERAL_PATH, ONE_ON_ONE_PATH, FakeGraph, GraphWorld
from helpers import MULTICHAT
from teams_support import PROVIDER, TOKEN

from multichat.runtime.untrusted import unmark_untrusted

DEADLINE = 60


async def test_every_tool_over_stdio(
    teams_workspace: Path, graph: GraphWorld, graph_fake: FakeGraph
):
    environment = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/tmp"),
        f"MULTICHAT_{PROVIDER.upper()}_TOKEN": TOKEN,
    }
    transport = StdioTransport(
        command=MULTICHAT, args=["run"], cwd=str(teams_workspace), env=environment
    )
    results: dict[str, Any] = {}
    post = next(m for m in graph.channel_messages[GENERAL] if m["replies"])

    async def use(tool: str, **arguments: Any) -> Any:
        result = await client.call_tool(f"{PROVIDER}_{tool}", arguments)
        results[tool] = result.structured_content
        return results[tool]

    async with Client(transport, timeout=DEADLINE, init_timeout=DEADLINE) as client:
        listed = {tool.name for tool in await client.list_tools()}
        await use("provider_info")
        await use("whoami")
        await use("list_channels")
        await use("get_channel_history", channel_id=GENERAL_PATH, limit=3)
        await use("get_thread", message_id=f"{GENERAL_PATH}/messages/{post['id']}")
        await use("search_messages", query="flamegraph")
        await use("list_users")
        await use("get_my_mentions")
        await use("catch_up", per_channel=2)
        await use("mark_read", channel_id=ONE_ON_ONE_PATH)
        sent = await use("send_message", channel_id=GENERAL_PATH, text="over **stdio**")
        await use("reply_to_thread", message_id=sent["id"], text="a reply")
        await use("edit_message", message_id=sent["id"], text="edited over stdio")
        await use("add_reaction", message_id=sent["id"], emoji="thumbsup")
        await use("delete_message", message_id=sent["id"])
    await transport.close()
    (teams_workspace / ".multichat" / "state" / PROVIDER / "channel-watermarks.json").unlink()

    assert listed == {f"{PROVIDER}_{tool}" for tool in results}
    assert results["provider_info"]["authenticated"] is True
    assert results["whoami"]["name"] == "Robin Kline"
    assert len(results["list_channels"]["channels"]) == 4
    assert len(results["get_channel_history"]["messages"]) == 3
    assert len(results["get_thread"]["replies"]) == 2
    assert len(results["search_messages"]["messages"]) == 2
    assert len(results["list_users"]["users"]) == 3
    assert len(results["get_my_mentions"]["messages"]) == 1
    assert results["catch_up"]["total_unread"] == 9
    assert results["mark_read"]["marked_read"] is True
    assert unmark_untrusted(results["send_message"]["text"]) == "over **stdio**"
    assert results["reply_to_thread"]["thread_id"] == sent["id"]
    assert results["edit_message"]["edited"] is True
    assert results["add_reaction"]["reactions"] == {"thumbsup": 1}
    assert results["delete_message"]["deleted"] is True
    body = graph_fake.calls("channel_post")[0].body["body"]
    assert body == {"contentType": "html", "content": "<p>over <strong>stdio</strong></p>"}
