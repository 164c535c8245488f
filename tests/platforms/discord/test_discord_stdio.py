"""Every Discord tool once through ``multichat run`` over stdio, with a real MCP client.

The server is the installed console script in a subprocess, in the workspace of provider
``dc``, signed in by ``MULTICHAT_DC_TOKEN``; the fake Discord answers on 127.0.0.1.
"""

from __future__ import annotations

from typing import Any

import pytest
from discord_world import BOT, BOTLAB, ENGINEERING, GENERAL, PROVIDER, TOKEN
from fastmcp import Client
from fastmcp.client.transports import StdioTransport
from fastmcp.exceptions import ToolError
from helpers import MULTICHAT

from multichat.runtime.untrusted import unmark_untrusted

pytestmark = pytest.mark.e2e

DEADLINE = 60.0
TOOLS = {
    "provider_info",
    "whoami",
    "list_channels",
    "get_channel_history",
    "get_thread",
    "search_messages",
    "list_users",
    "get_my_mentions",
    "catch_up",
    "send_message",
    "reply_to_thread",
    "edit_message",
    "delete_message",
    "add_reaction",
}


async def test_every_tool_over_stdio(dc_workspace, world, discord_fake, tmp_path):
    transport = StdioTransport(
        command=MULTICHAT,
        args=["run"],
        cwd=str(dc_workspace),
        env={f"MULTICHAT_{PROVIDER.upper()}_TOKEN": TOKEN},
        keep_alive=False,
        log_file=tmp_path / "stderr.log",
    )
    used: set[str] = set()

    async def call(tool: str, **arguments: Any) -> Any:
        used.add(tool)
        return (await client.call_tool(f"{PROVIDER}_{tool}", arguments)).structured_content

    try:
        async with Client(transport, timeout=DEADLINE, init_timeout=DEADLINE) as client:
            names = {tool.name for tool in await client.list_tools()}
            info = await call("provider_info")
            me = await call("whoami")
            channels = await call("list_channels", limit=2)
            history = await call("get_channel_history", channel_id=GENERAL, limit=3)
            thread = await call("get_thread", message_id=f"{GENERAL}:{world.started}")
            found = await call("search_messages", query="flamegraph", channel_id=ENGINEERING)
            users = await call("list_users")
            mentions = await call("get_my_mentions", limit=1)
            caught = await call("catch_up", per_channel=1)
            sent = await call("send_message", channel_id=BOTLAB, text="**over** stdio")
            reply = await call("reply_to_thread", message_id=sent["id"], text="reply")
            edited = await call("edit_message", message_id=sent["id"], text="edited")
            reacted = await call("add_reaction", message_id=sent["id"], emoji="eyes")
            deleted = await call("delete_message", message_id=sent["id"])
            with pytest.raises(ToolError, match="2,000 characters"):
                await call("send_message", channel_id=BOTLAB, text="x" * 2001)
    finally:
        await transport.close()

    assert names == {f"{PROVIDER}_{name}" for name in TOOLS}
    assert used == TOOLS
    assert info["authenticated"] is True
    assert info["platform"] == "Discord"
    assert me["id"] == BOT
    assert len(channels["channels"]) == 2
    assert channels["next_cursor"] == "2"
    assert len(history["messages"]) == 3
    assert len(thread["replies"]) == 3
    assert [unmark_untrusted(m["text"]) for m in found["messages"]] == ["flamegraph attached"]
    assert len(users["users"]) == 4
    assert len(mentions["messages"]) == 1
    assert mentions["next_cursor"]
    assert caught["total_unread"] == 7
    assert (dc_workspace / ".multichat" / "state" / PROVIDER / "catch_up.json").is_file()
    assert unmark_untrusted(sent["text"]) == "**over** stdio"
    assert reply["channel_id"] == BOTLAB
    assert unmark_untrusted(edited["text"]) == "edited"
    assert reacted["reactions"] == {"eyes": 1}
    assert deleted == {"message_id": sent["id"], "deleted": True}
    authorizations = {request.headers.get("authorization") for request in discord_fake[0].requests}
    assert authorizations == {f"Bot {TOKEN}"}
