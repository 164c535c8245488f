"""Every Matrix tool once through ``multichat run`` over stdio, with a real MCP client.

The server is a subprocess started in the workspace, as an MCP client starts it; it signs in
through ``MULTICHAT_<NAME>_TOKEN``. Readers use the seeded rooms (``mx``), writers the writer's
own room (``mxw``).
"""

from __future__ import annotations

import os
from typing import Any

from fastmcp import Client
from fastmcp.client.transports import StdioTransport
from helpers import MULTICHAT
from matrix_support import READER, WRITER

from multichat.runtime.untrusted import unmark_untrusted

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
    "mark_read",
    "send_message",
    "reply_to_thread",
    "edit_message",
    "add_reaction",
    "delete_message",
}


async def test_every_tool_over_stdio(
    matrix_workspace, synapse_seeded, writer_rooms, reader_token, tmp_path
):
    seeded = synapse_seeded
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", ""),
        "MULTICHAT_MX_TOKEN": reader_token,
        "MULTICHAT_MXW_TOKEN": writer_rooms.token,
    }
    transport = StdioTransport(
        command=MULTICHAT,
        args=["run"],
        cwd=str(matrix_workspace),
        env=env,
        keep_alive=False,
        log_file=tmp_path / "stderr.log",
    )
    root = f"{seeded.thread_root.room_id}/{seeded.thread_root.event_id}"
    calls: dict[str, Any] = {}

    async def use(provider: str, tool: str, **arguments: Any) -> Any:
        result = await client.call_tool(f"{provider}_{tool}", arguments)
        calls[tool] = result.structured_content
        return result.structured_content

    async with Client(transport, timeout=DEADLINE, init_timeout=DEADLINE) as client:
        names = {tool.name for tool in await client.list_tools()}
        await use(READER, "provider_info")
        await use(READER, "whoami")
        await use(READER, "list_channels")
        await use(READER, "get_channel_history", channel_id=seeded.rooms["engineering"])
        await use(READER, "get_thread", message_id=root)
        await use(READER, "search_messages", query=seeded.search_word)
        await use(READER, "list_users")
        await use(READER, "get_my_mentions")
        await use(READER, "catch_up")
        sent = await use(WRITER, "send_message", channel_id=writer_rooms.scratch, text="**hi**")
        await use(WRITER, "reply_to_thread", message_id=sent["id"], text="a reply")
        await use(WRITER, "edit_message", message_id=sent["id"], text="*edited*")
        await use(WRITER, "add_reaction", message_id=sent["id"], emoji="thumbsup")
        await use(WRITER, "delete_message", message_id=sent["id"])
        await use(WRITER, "mark_read", channel_id=writer_rooms.scratch)

    inbox = {"inbox_catch_up", "inbox_mentions", "inbox_search"}  # two providers: docs/inbox.md
    assert names == {f"{p}_{tool}" for p in (READER, WRITER) for tool in TOOLS} | inbox
    assert set(calls) == TOOLS
    assert calls["provider_info"]["authenticated"] is True
    assert calls["whoami"]["id"] == seeded.reader.user_id
    assert len(calls["list_channels"]["channels"]) == len(seeded.rooms)
    assert calls["get_channel_history"]["messages"]
    assert len(calls["get_thread"]["replies"]) == len(seeded.thread_replies)
    assert len(calls["search_messages"]["messages"]) == 2
    assert calls["list_users"]["users"]
    assert len(calls["get_my_mentions"]["messages"]) == 1
    assert calls["catch_up"]["channels"]
    assert unmark_untrusted(sent["text"]) == "**hi**"
    assert calls["reply_to_thread"]["thread_id"] == sent["id"]
    assert unmark_untrusted(calls["edit_message"]["text"]) == "*edited*"
    assert calls["add_reaction"]["reactions"] == {"thumbsup": 1}
    assert calls["delete_message"] == {"message_id": sent["id"], "deleted": True}
    assert calls["mark_read"]["marked_read"] is True
