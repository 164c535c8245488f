"""Every Mattermost tool once through ``multichat run`` over stdio, as an MCP client runs it.

The server is the installed console script in a subprocess, in the generated workspace; it
talks to the fake Mattermost on 127.0.0.1, which checks each exchange against the description.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fake_mattermost import ADA, DEV, OPS, TOWN, FakeMattermost, town_text
from fastmcp import Client
from fastmcp.client.transports import StdioTransport
from helpers import MULTICHAT

from multichat.chat.tools import CHAT_TOOLS
from multichat.runtime.untrusted import unmark_untrusted

P = "mm"
DEADLINE = 60.0


async def test_every_tool_answers_over_stdio(
    mm_workspace: Path, mattermost: tuple[FakeMattermost, str]
) -> None:
    server, _ = mattermost
    transport = StdioTransport(command=MULTICHAT, args=["run"], cwd=str(mm_workspace))
    results: dict[str, Any] = {}

    async def use(tool: str, **arguments: Any) -> Any:
        answer = await client.call_tool(f"{P}_{tool}", arguments)
        results[tool] = answer.structured_content
        return answer.structured_content

    async with Client(transport, timeout=DEADLINE, init_timeout=DEADLINE) as client:
        names = {tool.name for tool in await client.list_tools()}
        await use("provider_info")
        await use("whoami")
        await use("list_channels", types=["public"])
        history = await use("get_channel_history", channel_id=TOWN, limit=3)
        await use("get_thread", message_id=server.post_id(town_text(5)))
        await use("search_messages", query="flamegraph")
        await use("list_users", limit=2)
        await use("get_my_mentions", limit=1)
        await use("catch_up", per_channel=1)
        sent = await use("send_message", channel_id=OPS, text="over **stdio**")
        await use("reply_to_thread", message_id=sent["id"], text="a reply")
        await use("edit_message", message_id=sent["id"], text="edited over stdio")
        await use("add_reaction", message_id=sent["id"], emoji="tada")
        await use("delete_message", message_id=sent["id"])
        await use("mark_read", channel_id=DEV)

    assert names == {
        f"{P}_{name}" for name in (*CHAT_TOOLS, "provider_info", "whoami", "mark_read")
    }
    assert set(results) == {n.removeprefix(f"{P}_") for n in names}
    assert results["provider_info"]["authenticated"] is True
    assert results["whoami"]["id"] == ADA
    assert {c["id"] for c in results["list_channels"]["channels"]} == {TOWN, OPS}
    assert [unmark_untrusted(m["text"]) for m in history["messages"]] == [
        town_text(30),
        town_text(29),
        town_text(28),
    ]
    assert len(results["get_thread"]["replies"]) == 3
    assert len(results["search_messages"]["messages"]) == 3
    assert results["list_users"]["next_cursor"] == "2"
    assert len(results["get_my_mentions"]["messages"]) == 1
    assert results["catch_up"]["total_unread"] >= 1
    assert unmark_untrusted(sent["text"]) == "over **stdio**"
    assert results["reply_to_thread"]["thread_id"] == sent["id"]
    assert results["edit_message"]["edited"] is True
    assert results["add_reaction"]["reactions"] == {"tada": 1}
    assert results["delete_message"] == {"message_id": sent["id"], "deleted": True}
    assert results["mark_read"] == {"channel_id": DEV, "marked_read": True}
    assert server.fake.calls("DeletePost")[-1].path_params == {"post_id": sent["id"]}
