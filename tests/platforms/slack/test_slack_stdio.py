"""Every tool of the Slack preset once through ``multichat run`` over stdio, with a real MCP
client, against the fake Slack served on 127.0.0.1 (the workspace's api_base_url points there)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from fastmcp import Client
from fastmcp.client.transports import StdioTransport
from helpers import MULTICHAT
from slack_support import EXTRAS, PROVIDER, READERS, USER_TOKEN, WRITERS, call
from slack_world import GENERAL, GRACE, ME, RANDOM, ts

from multichat.runtime.untrusted import unmark_untrusted

pytestmark = pytest.mark.e2e

DEADLINE = 60


@pytest.fixture
async def stdio(slack_workspace: Path, tmp_path: Path) -> AsyncIterator[Client[Any]]:
    """``multichat run`` in the workspace, signed in through MULTICHAT_SLACK_TOKEN."""
    transport = StdioTransport(
        command=MULTICHAT,
        args=["run"],
        cwd=str(slack_workspace),
        env={"MULTICHAT_SLACK_TOKEN": USER_TOKEN},
        keep_alive=False,
        log_file=tmp_path / "server.log",
    )
    try:
        async with Client(transport, timeout=DEADLINE, init_timeout=DEADLINE) as client:
            yield client
    finally:
        await transport.close()


async def test_every_tool_answers_over_stdio(stdio, slack):
    fake, _ = slack
    listed = {tool.name for tool in await stdio.list_tools()}
    info = await call(stdio, "provider_info")
    me = await call(stdio, "whoami")
    channels = await call(stdio, "list_channels")
    history = await call(stdio, "get_channel_history", channel_id=GENERAL, limit=3)
    thread = await call(stdio, "get_thread", message_id=f"{GENERAL}:{ts(3)}")
    found = await call(stdio, "search_messages", query="flamegraph")
    users = await call(stdio, "list_users")
    mentions = await call(stdio, "get_my_mentions")
    news = await call(stdio, "catch_up")
    sent = await call(stdio, "send_message", channel_id=RANDOM, text="**hello** @grace")
    reply = await call(stdio, "reply_to_thread", message_id=sent["id"], text="a reply")
    edited = await call(stdio, "edit_message", message_id=sent["id"], text="hello again")
    reacted = await call(stdio, "add_reaction", message_id=sent["id"], emoji="tada")
    deleted = await call(stdio, "delete_message", message_id=reply["id"])
    marked = await call(stdio, "mark_read", channel_id=RANDOM)

    assert listed == {f"{PROVIDER}_{name}" for name in READERS | WRITERS | EXTRAS}
    assert (info["platform"], info["authenticated"]) == ("Slack", True)
    assert me["id"] == ME
    assert len(channels["channels"]) == 6
    assert [m["id"] for m in history["messages"]] == [f"{GENERAL}:{ts(n)}" for n in (11, 10, 8)]
    assert len(thread["replies"]) == 3
    assert len(found["messages"]) == 2
    assert len(users["users"]) == 4
    assert len(mentions["messages"]) == 3
    assert news["total_unread"] == 8
    assert fake.calls("chat_postMessage")[0].arguments["text"] == f"*hello* <@{GRACE}>"
    assert unmark_untrusted(sent["text"]) == "**hello** @Grace Hopper"
    assert reply["thread_id"] == sent["id"]
    assert unmark_untrusted(edited["text"]) == "hello again"
    assert reacted["reactions"] == {"tada": 1}
    assert deleted["deleted"] is True
    assert marked["marked_read"] is True
    assert {r.headers["authorization"] for r in fake.requests} == {f"Bearer {USER_TOKEN}"}
