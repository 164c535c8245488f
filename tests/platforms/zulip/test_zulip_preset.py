"""The Zulip preset's tools through a real MCP client in memory, against the fake Zulip.

The fake (fake_zulip.py) checks every request and answer against zulip_api.yaml, Zulip's API
documentation transcribed; the facts asserted here are its seed: Ada subscribed to #general
(30 messages in topic "town", a topic "release" of four), #dev (two unread, mentions) and #ops,
a direct conversation with Grace (unread) and a group one with Grace and Linus.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fake_zulip import (
    API_KEY,
    DEV,
    EMAIL,
    GENERAL,
    GRACE,
    OPS,
    FakeZulip,
    general_text,
)
from fastmcp.exceptions import ToolError
from helpers import connect, set_provider_keys
from platforms.preset_workspace import call, copy_workspace, page_through, sign_in

from multichat.chat.tools import CHAT_TOOLS, READERS, WRITERS
from multichat.runtime import UNTRUSTED_NOTICE
from multichat.runtime.untrusted import unmark_untrusted

P = "zp"
Fake = tuple[FakeZulip, str]
GENERAL_ID, DEV_ID, OPS_ID = str(GENERAL), str(DEV), str(OPS)
WITH_GRACE = f"dm:{GRACE}"
RELEASE = ["release plan", "release reply 1", "release reply 2", "release reply 3"]


def texts(page: dict[str, Any]) -> list[str]:
    return [unmark_untrusted(message["text"]) for message in page["messages"]]


# ---- what is served ----------------------------------------------------------------------------


async def test_the_twelve_tools_and_mark_read_are_served_and_send_takes_a_topic(
    zp_workspace: Path,
) -> None:
    async with connect(zp_workspace) as client:
        tools = {tool.name: tool for tool in await client.list_tools()}

    assert set(tools) == {
        f"{P}_{name}" for name in (*CHAT_TOOLS, "provider_info", "whoami", "mark_read")
    }
    send = tools[f"{P}_send_message"]
    schema = send.input_schema
    assert set(schema["properties"]) == {"channel_id", "text", "topic"}
    assert "required for a channel" in schema["properties"]["topic"]["description"]
    assert "topic" in (send.description or "")
    reply = tools[f"{P}_reply_to_thread"].input_schema["properties"]
    assert set(reply) == {"message_id", "text"}  # a reply stays in its message's topic


async def test_whoami_and_provider_info(zp_workspace: Path, zulip: Fake) -> None:
    _, url = zulip
    async with connect(zp_workspace) as client:
        me = await call(client, P, "whoami")
        info = await call(client, P, "provider_info")

    assert me == {"id": "8", "username": EMAIL, "name": "Ada Lovelace", "is_bot": False}
    assert info["platform"] == "Zulip"
    assert info["api_base_url"] == f"{url}/api/v1"


async def test_the_token_variable_holds_email_and_key(
    zp_workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace = copy_workspace(zp_workspace, tmp_path / "env")
    (workspace / "src" / "providers" / P / "token.json").unlink()
    monkeypatch.setenv("MULTICHAT_ZP_TOKEN", f"{EMAIL}:{API_KEY}")
    async with connect(workspace) as client:
        me = await call(client, P, "whoami")

    assert me["username"] == EMAIL


# ---- readers -----------------------------------------------------------------------------------


async def test_list_channels_gives_subscriptions_then_direct_conversations(
    zp_workspace: Path,
) -> None:
    async with connect(zp_workspace) as client:
        everything = await call(client, P, "list_channels")
        private = await call(client, P, "list_channels", types=["private"])
        direct = await call(client, P, "list_channels", types=["direct", "group"])
        pages = await page_through(client, P, "list_channels", "channels", limit=2)

    channels = {channel["id"]: channel for channel in everything["channels"]}
    assert list(channels) == [DEV_ID, GENERAL_ID, OPS_ID, "dm:9,10", WITH_GRACE]
    assert channels[DEV_ID] == {
        "id": DEV_ID,
        "name": "dev",
        "kind": "private",
        "topic": "Builds and deploys",
        "is_member": True,
        "member_count": 3,
        "last_message_at": None,
    }
    assert channels["dm:9,10"]["name"] == "Grace Hopper, Linus Torvalds"
    assert channels["dm:9,10"]["kind"] == "group"
    assert channels[WITH_GRACE]["kind"] == "direct"
    assert "4" not in channels  # not subscribed
    assert [c["id"] for c in private["channels"]] == [DEV_ID]
    assert [c["id"] for c in direct["channels"]] == ["dm:9,10", WITH_GRACE]
    assert [c["id"] for page in pages for c in page] == list(channels)


async def test_channel_history_reads_every_topic_newest_first_as_markdown(
    zp_workspace: Path, zulip: Fake
) -> None:
    server, _ = zulip
    async with connect(zp_workspace) as client:
        pages = await page_through(
            client, P, "get_channel_history", "messages", channel_id=GENERAL_ID, limit=8
        )

    messages = [message for page in pages for message in page]
    expected = [*reversed(RELEASE), *(general_text(n) for n in range(30, 0, -1))]
    assert [unmark_untrusted(m["text"]) for m in messages] == expected
    assert [len(page) for page in pages] == [8, 8, 8, 8, 2]
    assert messages[0]["channel_name"] == "general > release"
    assert messages[-1]["channel_name"] == "general > town"
    requests = server.api.calls("get-messages")
    assert requests[-1].arguments["apply_markdown"] is False
    assert json.loads(requests[-1].arguments["narrow"]) == [
        {"operator": "stream", "operand": GENERAL}
    ]
    assert requests[-1].arguments["include_anchor"] is False


async def test_channel_history_keeps_strictly_inside_the_time_window(zp_workspace: Path) -> None:
    async with connect(zp_workspace) as client:
        everything = await call(client, P, "get_channel_history", channel_id=GENERAL_ID, limit=40)
        times = [message["sent_at"] for message in everything["messages"]]
        window = await call(
            client,
            P,
            "get_channel_history",
            channel_id=GENERAL_ID,
            oldest=times[20],
            latest=times[5],
            limit=4,
        )
        rest = await call(
            client,
            P,
            "get_channel_history",
            channel_id=GENERAL_ID,
            oldest=times[20],
            latest=times[5],
            cursor=window["next_cursor"],
        )

    assert times == sorted(times, reverse=True)
    assert [m["sent_at"] for m in window["messages"] + rest["messages"]] == times[6:20]
    assert rest["next_cursor"] is None


async def test_a_direct_conversation_reads_like_a_channel(zp_workspace: Path) -> None:
    async with connect(zp_workspace) as client:
        history = await call(client, P, "get_channel_history", channel_id=WITH_GRACE)
        group = await call(client, P, "get_channel_history", channel_id="dm:10,9")

    assert texts(history)[-1] == "lunch?"
    assert {m["channel_id"] for m in history["messages"]} == {WITH_GRACE}
    assert texts(group) == ["group hello"]
    assert group["messages"][0]["channel_id"] == "dm:9,10"


async def test_get_thread_reads_the_topic_from_any_of_its_messages(
    zp_workspace: Path, zulip: Fake
) -> None:
    server, _ = zulip
    async with connect(zp_workspace) as client:
        whole = await call(
            client, P, "get_thread", message_id=str(server.message_id("release plan"))
        )
        from_reply = await call(
            client, P, "get_thread", message_id=str(server.message_id("release reply 2"))
        )
        first = await call(
            client, P, "get_thread", message_id=str(server.message_id("release plan")), limit=2
        )
        second = await call(
            client,
            P,
            "get_thread",
            message_id=str(server.message_id("release plan")),
            limit=2,
            cursor=first["next_cursor"],
        )
        with pytest.raises(ToolError, match="direct conversations have no topics"):
            await call(client, P, "get_thread", message_id=str(server.message_id("lunch?")))

    assert whole["notice"] == UNTRUSTED_NOTICE
    assert unmark_untrusted(whole["root"]["text"]) == "release plan"
    assert [unmark_untrusted(r["text"]) for r in whole["replies"]] == RELEASE[1:]
    assert from_reply == whole
    assert first["replies"] + second["replies"] == whole["replies"]
    assert second["next_cursor"] is None
    narrow = json.loads(server.api.calls("get-messages")[-1].arguments["narrow"])
    assert {"operator": "topic", "operand": "release"} in narrow


async def test_search_uses_the_search_narrow_and_pages(zp_workspace: Path, zulip: Fake) -> None:
    server, _ = zulip
    async with connect(zp_workspace) as client:
        flamegraph = await call(client, P, "search_messages", query="flamegraph")
        in_general = await call(
            client, P, "search_messages", query="flamegraph", channel_id=GENERAL_ID
        )
        narrow = json.loads(server.api.calls("get-messages")[-1].arguments["narrow"])
        pages = await page_through(
            client, P, "search_messages", "messages", query="general post", limit=7
        )

    assert texts(flamegraph) == [
        "Deploy done, @Ada Lovelace please check the **flamegraph**",
        general_text(21),
        general_text(7),
    ]
    assert texts(in_general) == texts(flamegraph)[1:]
    assert narrow == [
        {"operator": "stream", "operand": GENERAL},
        {"operator": "search", "operand": "flamegraph"},
    ]
    found = [unmark_untrusted(m["text"]) for page in pages for m in page]
    assert found == [general_text(n) for n in range(30, 0, -1)]


async def test_get_my_mentions_is_the_mentioned_narrow(zp_workspace: Path, zulip: Fake) -> None:
    server, _ = zulip
    async with connect(zp_workspace) as client:
        mentions = await call(client, P, "get_my_mentions")

    assert texts(mentions) == [
        "ops rota: @Ada Lovelace on call",
        "@Ada Lovelace the build is green",
        "Deploy done, @Ada Lovelace please check the **flamegraph**",
    ]
    assert json.loads(server.api.calls("get-messages")[-1].arguments["narrow"]) == [
        {"operator": "is", "operand": "mentioned"}
    ]


async def test_list_users_leaves_out_deactivated_people_and_pages(zp_workspace: Path) -> None:
    async with connect(zp_workspace) as client:
        everyone = await call(client, P, "list_users")
        pages = await page_through(client, P, "list_users", "users", limit=3)

    assert [user["name"] for user in everyone["users"]] == [
        "Ada Lovelace",
        "Grace Hopper",
        "Linus Torvalds",
        "Deploy Bot",
    ]
    assert everyone["users"][3]["is_bot"] is True
    assert [user for page in pages for user in page] == everyone["users"]


async def test_catch_up_groups_the_unread_messages_and_mark_read_flags_them(
    zp_workspace: Path, zulip: Fake
) -> None:
    server, _ = zulip
    async with connect(zp_workspace) as client:
        before = await call(client, P, "catch_up", per_channel=5)
        marked = await call(client, P, "mark_read", channel_id=DEV_ID)
        after = await call(client, P, "catch_up")

    assert before["total_unread"] == 3
    assert [item["channel_id"] for item in before["channels"]] == [DEV_ID, WITH_GRACE]
    dev = before["channels"][0]
    assert (dev["channel_name"], dev["unread_count"], dev["mentions_of_me"]) == ("dev", 2, 1)
    assert [unmark_untrusted(m["text"]) for m in dev["latest"]] == [
        "deploy 42 finished",
        "@Ada Lovelace the build is green",
    ]
    assert "unread flags" in before["note"]
    assert marked == {"channel_id": DEV_ID, "marked_read": True}
    flags = server.api.calls("update-message-flags-for-narrow")[-1].body
    assert (flags["anchor"], flags["op"], flags["flag"]) == ("first_unread", "add", "read")
    assert json.loads(flags["narrow"]) == [{"operator": "stream", "operand": DEV}]
    assert [item["channel_id"] for item in after["channels"]] == [WITH_GRACE]


# ---- writers -----------------------------------------------------------------------------------


async def test_send_reply_edit_react_and_delete_round_trip(zp_workspace: Path, zulip: Fake) -> None:
    server, _ = zulip
    async with connect(zp_workspace) as client:
        sent = await call(
            client,
            P,
            "send_message",
            channel_id=OPS_ID,
            topic="round trip",
            text="Hello @**Grace Hopper**",
        )
        reply = await call(client, P, "reply_to_thread", message_id=sent["id"], text="in the topic")
        thread = await call(client, P, "get_thread", message_id=reply["id"])
        edited = await call(client, P, "edit_message", message_id=sent["id"], text="Edited")
        reacted = await call(client, P, "add_reaction", message_id=sent["id"], emoji="eyes")
        again = await call(client, P, "add_reaction", message_id=sent["id"], emoji="eyes")
        deleted = await call(client, P, "delete_message", message_id=sent["id"])
        direct = await call(client, P, "send_message", channel_id=WITH_GRACE, text="just us")
        answer = await call(client, P, "reply_to_thread", message_id=direct["id"], text="still us")

    assert (sent["channel_id"], sent["channel_name"]) == (OPS_ID, "ops > round trip")
    assert unmark_untrusted(sent["text"]) == "Hello @Grace Hopper"
    assert reply["channel_name"] == "ops > round trip"
    assert [unmark_untrusted(m["text"]) for m in [thread["root"], *thread["replies"]]] == [
        "Hello @Grace Hopper",
        "in the topic",
    ]
    assert edited["edited"] is True
    assert unmark_untrusted(edited["text"]) == "Edited"
    assert reacted["reactions"] == again["reactions"] == {"eyes": 1}
    assert deleted == {"message_id": sent["id"], "deleted": True}
    assert (direct["channel_id"], answer["channel_id"]) == (WITH_GRACE, WITH_GRACE)
    bodies = [request.body for request in server.api.calls("send-message")[-4:]]
    assert bodies[0] == {
        "type": "stream",
        "to": OPS_ID,
        "topic": "round trip",
        "content": "Hello @**Grace Hopper**",
    }
    assert bodies[1]["topic"] == "round trip"
    assert (bodies[2]["type"], json.loads(bodies[2]["to"])) == ("direct", [GRACE])
    assert json.loads(bodies[3]["to"]) == [GRACE]
    assert server.api.calls("update-message")[-1].body == {"content": "Edited"}
    assert server.api.calls("add-reaction")[-1].body == {"emoji_name": "eyes"}


async def test_a_channel_message_without_a_topic_is_refused_before_any_request(
    zp_workspace: Path, zulip: Fake
) -> None:
    server, _ = zulip
    before = len(server.api.requests)
    async with connect(zp_workspace) as client:
        with pytest.raises(ToolError, match="pass `topic`"):
            await call(client, P, "send_message", channel_id=OPS_ID, text="where?")
        with pytest.raises(ToolError, match="at most 60 characters; this one has 61"):
            await call(client, P, "send_message", channel_id=OPS_ID, text="x", topic="t" * 61)
        with pytest.raises(ToolError, match="not a Zulip channel id"):
            await call(client, P, "send_message", channel_id="general", text="x", topic="t")
        with pytest.raises(ToolError, match="not a Zulip message id"):
            await call(client, P, "delete_message", message_id="../users/me")

    assert len(server.api.requests) == before


async def test_markdown_goes_out_in_zulips_syntax_and_comes_back_as_markdown(
    zp_workspace: Path, zulip: Fake
) -> None:
    server, _ = zulip
    markdown = "_Deploy_ **done**: see [the log](https://ci.example.com/42) @**Grace Hopper**"
    async with connect(zp_workspace) as client:
        sent = await call(client, P, "send_message", channel_id=WITH_GRACE, text=markdown)

    content = server.api.calls("send-message")[-1].body["content"]
    assert (
        content == "*Deploy* **done**: see [the log](https://ci.example.com/42) @**Grace Hopper**"
    )
    assert unmark_untrusted(sent["text"]) == (
        "*Deploy* **done**: see [the log](https://ci.example.com/42) @Grace Hopper"
    )
    assert server.api.calls("get-message")[-1].arguments == {"apply_markdown": False}


async def test_over_the_length_limit_nothing_is_sent(zp_workspace: Path, zulip: Fake) -> None:
    server, _ = zulip
    before = len(server.api.requests)
    async with connect(zp_workspace) as client:
        with pytest.raises(ToolError) as too_long:
            await call(client, P, "send_message", channel_id=OPS_ID, topic="t", text="x" * 10_001)
        with pytest.raises(ToolError, match="at most 10,000"):
            await call(client, P, "reply_to_thread", message_id="101", text="y" * 10_001)
        with pytest.raises(ToolError, match="at most 10,000"):
            await call(client, P, "edit_message", message_id="101", text="z" * 10_001)

    assert str(too_long.value) == (
        "Zulip takes at most 10,000 characters per message; this one has 10,001 characters"
    )
    assert len(server.api.requests) == before


async def test_editing_someone_elses_message_is_refused_by_zulip(
    zp_workspace: Path, zulip: Fake
) -> None:
    server, _ = zulip
    async with connect(zp_workspace) as client:
        with pytest.raises(ToolError) as refused:
            await call(
                client, P, "edit_message", message_id=str(server.message_id("lunch?")), text="mine"
            )

    assert "HTTP 400" in str(refused.value)


# ---- the platform's answers --------------------------------------------------------------------


async def test_a_429_is_waited_out_and_retried(zp_workspace: Path, zulip: Fake) -> None:
    server, _ = zulip
    server.answer_first("get-users", server.api.rate_limited(0))
    calls = len(server.api.calls("get-users"))
    async with connect(zp_workspace) as client:
        users = await call(client, P, "list_users")

    assert len(users["users"]) == 4
    assert len(server.api.calls("get-users")) == calls + 2


async def test_a_regenerated_key_names_the_command_that_fixes_it(
    zp_workspace: Path, tmp_path: Path
) -> None:
    workspace = copy_workspace(zp_workspace, tmp_path / "revoked")
    sign_in(workspace, P, {"access_token": "an-old-key", "username": EMAIL, "token_type": "basic"})
    async with connect(workspace) as client:
        with pytest.raises(ToolError) as failed:
            await call(client, P, "list_channels")

    message = str(failed.value)
    assert f"run `multichat auth {P}`" in message
    assert "rejected the token" in message
    assert "\n" not in message


async def test_read_only_hides_every_writer(zp_workspace: Path, tmp_path: Path) -> None:
    workspace = copy_workspace(zp_workspace, tmp_path / "read-only")
    set_provider_keys(workspace, P, read_only=True)
    async with connect(workspace) as client:
        names = {tool.name for tool in await client.list_tools()}
        channels = await call(client, P, "list_channels", types=["public"])

    assert names == {f"{P}_{name}" for name in (*READERS, "provider_info", "whoami")}
    assert not {f"{P}_{name}" for name in (*WRITERS, "mark_read")} & names
    assert [c["id"] for c in channels["channels"]] == [GENERAL_ID, OPS_ID]
