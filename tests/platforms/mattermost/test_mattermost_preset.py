"""The Mattermost preset's tools through a real MCP client in memory, against the fake Mattermost.

The fake (fake_mattermost.py) checks every request and answer against the Mattermost API
description; the facts asserted here are its seed: Ada in two teams, 30 top-level posts and a
thread in Town Square, mentions of @ada in Dev and Ops Chat, two unread posts in Dev and one in
the direct channel with Grace.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fake_mattermost import (
    ADA,
    BOT,
    DEV,
    DM,
    GM,
    OPS,
    TOWN,
    FakeMattermost,
    mm_id,
    town_text,
)
from fastmcp.exceptions import ToolError
from helpers import connect, set_provider_keys
from platforms.preset_workspace import call, copy_workspace, page_through, sign_in

from multichat.chat.tools import CHAT_TOOLS, READERS, WRITERS
from multichat.runtime import UNTRUSTED_NOTICE
from multichat.runtime.untrusted import unmark_untrusted

P = "mm"
Fake = tuple[FakeMattermost, str]


def texts(page: dict[str, Any]) -> list[str]:
    return [unmark_untrusted(message["text"]) for message in page["messages"]]


# ---- what is served ----------------------------------------------------------------------------


async def test_the_twelve_tools_and_mark_read_are_served(mm_workspace: Path) -> None:
    async with connect(mm_workspace) as client:
        tools = {tool.name: tool for tool in await client.list_tools()}

    expected = {*CHAT_TOOLS, "provider_info", "whoami", "mark_read"}
    assert set(tools) == {f"{P}_{name}" for name in expected}
    send = tools[f"{P}_send_message"].input_schema["properties"]
    assert set(send) == {"channel_id", "text"}  # no topic: Mattermost has threads


async def test_whoami_and_provider_info(mm_workspace: Path, mattermost: Fake) -> None:
    _, url = mattermost
    async with connect(mm_workspace) as client:
        me = await call(client, P, "whoami")
        info = await call(client, P, "provider_info")

    assert me == {"id": ADA, "username": "ada", "name": "Ada Lovelace", "is_bot": False}
    assert info["platform"] == "Mattermost"
    assert info["api_base_url"] == f"{url}/api/v4"
    assert info["authenticated"] is True


# ---- readers -----------------------------------------------------------------------------------


async def test_list_channels_names_every_kind_across_teams_and_pages(mm_workspace: Path) -> None:
    async with connect(mm_workspace) as client:
        everything = await call(client, P, "list_channels")
        direct = await call(client, P, "list_channels", types=["direct", "group"])
        pages = await page_through(client, P, "list_channels", "channels", limit=2)

    channels = {channel["id"]: channel for channel in everything["channels"]}
    assert set(channels) == {TOWN, DEV, OPS, DM, GM}  # the DM and group once, not per team
    assert {c["id"]: c["kind"] for c in everything["channels"]} == {
        TOWN: "public",
        OPS: "public",
        DEV: "private",
        GM: "group",
        DM: "direct",
    }
    assert channels[DM]["name"] == "Grace Hopper"  # the other person, not "id__id"
    assert channels[GM]["name"] == "ada, grace, linus"
    assert channels[DEV]["topic"] == "Builds and deploys"
    assert channels[TOWN]["last_message_at"].endswith("Z")
    assert [c["id"] for c in direct["channels"]] == [GM, DM]
    assert [len(page) for page in pages] == [2, 2, 1]
    assert [c["id"] for page in pages for c in page] == [c["id"] for c in everything["channels"]]


async def test_channel_history_pages_the_top_level_posts_newest_first(
    mm_workspace: Path, mattermost: Fake
) -> None:
    server, _ = mattermost
    async with connect(mm_workspace) as client:
        pages = await page_through(
            client, P, "get_channel_history", "messages", channel_id=TOWN, limit=7
        )

    messages = [message for page in pages for message in page]
    shown = [unmark_untrusted(message["text"]) for message in messages]
    assert shown == [town_text(n) for n in range(30, 0, -1)]  # no replies, no system notice
    assert [len(page) for page in pages] == [7, 7, 7, 7, 2]
    root = next(m for m in messages if unmark_untrusted(m["text"]) == town_text(5))
    assert root["reply_count"] == 3
    assert {m["channel_name"] for m in messages} == {"Town Square"}
    assert {m["author"] for m in messages} == {"Ada Lovelace", "Grace Hopper", "Linus Torvalds"}
    requests = server.fake.calls("GetPostsForChannel")
    assert requests[-1].arguments["page"] == 0
    assert "before" in requests[-1].arguments


async def test_channel_history_keeps_strictly_inside_the_time_window(mm_workspace: Path) -> None:
    async with connect(mm_workspace) as client:
        everything = await call(client, P, "get_channel_history", channel_id=TOWN, limit=30)
        times = [message["sent_at"] for message in everything["messages"]]
        window = await call(
            client,
            P,
            "get_channel_history",
            channel_id=TOWN,
            oldest=times[20],
            latest=times[5],
            limit=4,
        )
        rest = await call(
            client,
            P,
            "get_channel_history",
            channel_id=TOWN,
            oldest=times[20],
            latest=times[5],
            cursor=window["next_cursor"],
            limit=50,
        )

    assert times == sorted(times, reverse=True)
    paged = window["messages"] + rest["messages"]
    assert [m["sent_at"] for m in paged] == times[6:20]
    assert rest["next_cursor"] is None


async def test_get_thread_from_the_root_or_a_reply_pages_the_replies(
    mm_workspace: Path, mattermost: Fake
) -> None:
    server, _ = mattermost
    root = server.post_id("town post 5")
    reply = server.post_id("reply 2 to post 5")
    async with connect(mm_workspace) as client:
        whole = await call(client, P, "get_thread", message_id=root)
        from_reply = await call(client, P, "get_thread", message_id=reply)
        first = await call(client, P, "get_thread", message_id=root, limit=2)
        second = await call(client, P, "get_thread", message_id=root, cursor=first["next_cursor"])

    assert whole["notice"] == UNTRUSTED_NOTICE
    assert unmark_untrusted(whole["root"]["text"]) == "town post 5"
    assert [unmark_untrusted(r["text"]) for r in whole["replies"]] == [
        f"reply {n} to post 5" for n in (1, 2, 3)
    ]
    assert {r["thread_id"] for r in whole["replies"]} == {root}
    assert from_reply == whole
    assert first["replies"] + second["replies"] == whole["replies"]
    assert second["next_cursor"] is None


async def test_search_merges_the_teams_newest_first_and_pages(mm_workspace: Path) -> None:
    async with connect(mm_workspace) as client:
        flamegraph = await call(client, P, "search_messages", query="flamegraph")
        in_town = await call(client, P, "search_messages", query="flamegraph", channel_id=TOWN)
        pages = await page_through(client, P, "search_messages", "messages", query="town", limit=4)
        nothing = await call(client, P, "search_messages", query="payroll")

    assert texts(flamegraph) == [
        "Deploy done, @ada please check the **flamegraph**",
        "town post 21 about the flamegraph",
        "town post 7 about the flamegraph",
    ]
    assert texts(in_town) == texts(flamegraph)[1:]
    found = [unmark_untrusted(m["text"]) for page in pages for m in page]
    assert found == [town_text(n) for n in range(30, 0, -1)]
    assert nothing == {"notice": UNTRUSTED_NOTICE, "messages": [], "next_cursor": None}


async def test_get_my_mentions_finds_at_ada_in_every_team_newest_first(mm_workspace: Path) -> None:
    async with connect(mm_workspace) as client:
        mentions = await call(client, P, "get_my_mentions")

    assert texts(mentions) == [
        "ops rota: @ada on call",
        "@ada the build is green",
        "Deploy done, @ada please check the **flamegraph**",
    ]
    assert [m["channel_id"] for m in mentions["messages"]] == [OPS, DEV, DEV]


async def test_list_users_pages_even_when_the_limit_changes(mm_workspace: Path) -> None:
    async with connect(mm_workspace) as client:
        everyone = await call(client, P, "list_users")
        first = await call(client, P, "list_users", limit=3)
        rest = await call(client, P, "list_users", limit=2, cursor=first["next_cursor"])

    users = {user["username"]: user for user in everyone["users"]}
    assert list(users) == ["ada", "deploybot", "grace", "linus"]
    assert users["deploybot"] == {
        "id": BOT,
        "username": "deploybot",
        "name": "deploybot",
        "is_bot": True,
    }
    assert users["grace"]["name"] == "Grace Hopper"
    assert first["users"] + rest["users"] == everyone["users"]
    assert rest["next_cursor"] is None


async def test_catch_up_reads_the_members_counts_and_mark_read_clears_them(
    mm_workspace: Path, mattermost: Fake
) -> None:
    server, _ = mattermost
    async with connect(mm_workspace) as client:
        before = await call(client, P, "catch_up", per_channel=5)
        marked = await call(client, P, "mark_read", channel_id=DEV)
        after = await call(client, P, "catch_up")

    assert before["channels_checked"] == 5
    assert before["total_unread"] == 3
    news = {item["channel_id"]: item for item in before["channels"]}
    assert [item["channel_id"] for item in before["channels"]] == [DEV, DM]  # mentions first
    assert (news[DEV]["channel_name"], news[DEV]["unread_count"]) == ("Dev", 2)
    assert news[DEV]["mentions_of_me"] == 1
    assert [unmark_untrusted(m["text"]) for m in news[DEV]["latest"]] == [
        "deploy 42 finished",
        "@ada the build is green",
    ]
    assert (news[DM]["channel_name"], news[DM]["unread_count"]) == ("Grace Hopper", 1)
    assert marked == {"channel_id": DEV, "marked_read": True}
    assert server.fake.calls("ViewChannel")[-1].path_params == {"user_id": "me"}
    assert [item["channel_id"] for item in after["channels"]] == [DM]


# ---- writers -----------------------------------------------------------------------------------


async def test_send_reply_edit_react_and_delete_round_trip(
    mm_workspace: Path, mattermost: Fake
) -> None:
    server, _ = mattermost
    async with connect(mm_workspace) as client:
        sent = await call(client, P, "send_message", channel_id=OPS, text="Round trip @grace")
        reply = await call(client, P, "reply_to_thread", message_id=sent["id"], text="first")
        second = await call(client, P, "reply_to_thread", message_id=reply["id"], text="second")
        thread = await call(client, P, "get_thread", message_id=sent["id"])
        edited = await call(client, P, "edit_message", message_id=sent["id"], text="Edited")
        reacted = await call(client, P, "add_reaction", message_id=sent["id"], emoji="eyes")
        again = await call(client, P, "add_reaction", message_id=sent["id"], emoji="eyes")
        deleted = await call(client, P, "delete_message", message_id=sent["id"])
        with pytest.raises(ToolError, match="404"):
            await call(client, P, "get_thread", message_id=sent["id"])

    assert (sent["channel_id"], sent["channel_name"], sent["author_id"]) == (OPS, "Ops Chat", ADA)
    assert unmark_untrusted(sent["text"]) == "Round trip @grace"
    assert reply["thread_id"] == second["thread_id"] == sent["id"]  # a reply to a reply joins
    assert [r["id"] for r in thread["replies"]] == [reply["id"], second["id"]]
    assert thread["root"]["reply_count"] == 2
    assert edited["edited"] is True
    assert unmark_untrusted(edited["text"]) == "Edited"
    assert reacted["reactions"] == again["reactions"] == {"eyes": 1}
    assert deleted == {"message_id": sent["id"], "deleted": True}
    replies = [call.body for call in server.fake.calls("CreatePost")[-2:]]
    assert [body["root_id"] for body in replies] == [sent["id"], sent["id"]]
    assert server.fake.calls("SaveReaction")[-1].body == {
        "user_id": ADA,
        "post_id": sent["id"],
        "emoji_name": "eyes",
    }
    assert server.fake.calls("PatchPost")[-1].body == {"message": "Edited"}


async def test_markdown_goes_out_and_comes_back_as_written(
    mm_workspace: Path, mattermost: Fake
) -> None:
    server, _ = mattermost
    markdown = "**Deploy** _done_: see [the log](https://ci.example.com/42)\n\n- one\n- `two`"
    async with connect(mm_workspace) as client:
        sent = await call(client, P, "send_message", channel_id=DM, text=markdown)
        history = await call(client, P, "get_channel_history", channel_id=DM, limit=1)

    assert server.fake.calls("CreatePost")[-1].body["message"] == markdown
    assert unmark_untrusted(sent["text"]) == markdown
    assert texts(history) == [markdown]


async def test_over_the_length_limit_nothing_is_sent(mm_workspace: Path, mattermost: Fake) -> None:
    server, _ = mattermost
    before = len(server.fake.requests)
    async with connect(mm_workspace) as client:
        with pytest.raises(ToolError) as too_long:
            await call(client, P, "send_message", channel_id=OPS, text="x" * 16_384)
        with pytest.raises(ToolError):
            await call(client, P, "reply_to_thread", message_id=mm_id("post", 1), text="y" * 20_000)
        with pytest.raises(ToolError):
            await call(client, P, "edit_message", message_id=mm_id("post", 1), text="z" * 16_384)

    assert str(too_long.value) == (
        "Mattermost takes at most 16,383 characters per message; this one has 16,384 characters"
    )
    assert len(server.fake.requests) == before


async def test_malformed_ids_are_refused_before_any_request(
    mm_workspace: Path, mattermost: Fake
) -> None:
    server, _ = mattermost
    before = len(server.fake.requests)
    async with connect(mm_workspace) as client:
        with pytest.raises(ToolError, match="not a Mattermost post id"):
            await call(client, P, "delete_message", message_id="../../users/me")
        with pytest.raises(ToolError, match="not a Mattermost channel id"):
            await call(client, P, "get_channel_history", channel_id="C01")
        with pytest.raises(ToolError, match="not a cursor this tool gave"):
            await call(client, P, "list_users", cursor="page-two")

    assert len(server.fake.requests) == before


# ---- the platform's answers --------------------------------------------------------------------


async def test_a_429_is_waited_out_and_retried(mm_workspace: Path, mattermost: Fake) -> None:
    server, _ = mattermost
    server.answer_first("GetUsers", server.fake.rate_limited(0))
    calls = len(server.fake.calls("GetUsers"))
    async with connect(mm_workspace) as client:
        users = await call(client, P, "list_users")

    assert len(users["users"]) == 4
    assert len(server.fake.calls("GetUsers")) == calls + 2


async def test_a_revoked_token_names_the_command_that_fixes_it(
    mm_workspace: Path, tmp_path: Path
) -> None:
    workspace = copy_workspace(mm_workspace, tmp_path / "revoked")
    sign_in(workspace, P, {"access_token": "revokedrevokedrevokedrevo", "token_type": "bearer"})
    async with connect(workspace) as client:
        with pytest.raises(ToolError) as failed:
            await call(client, P, "list_channels")

    message = str(failed.value)
    assert f"run `multichat auth {P}`" in message
    assert "Invalid or expired session" in message
    assert "\n" not in message


async def test_read_only_hides_every_writer(mm_workspace: Path, tmp_path: Path) -> None:
    workspace = copy_workspace(mm_workspace, tmp_path / "read-only")
    set_provider_keys(workspace, P, read_only=True)
    async with connect(workspace) as client:
        names = {tool.name for tool in await client.list_tools()}
        channels = await call(client, P, "list_channels")

    assert names == {f"{P}_{name}" for name in (*READERS, "provider_info", "whoami")}
    assert not {f"{P}_{name}" for name in (*WRITERS, "mark_read")} & names
    assert len(channels["channels"]) == 5
