"""The teams preset's tools through a real MCP client, in memory, against the fake Graph.

Every request is checked against graph_description.py by the fake (the ``graph`` fixture
fails the test otherwise); the assertions here are about what the tools answer and send.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from fastmcp.exceptions import ToolError
from graph_world import (
    GENERAL_PATH,
    GROUP_PATH,
    INCIDENTS_PATH,
    ME,
    ONE_ON_ONE_PATH,
    TENANT,
    FakeGraph,
    GraphWorld,
    token_rejected,
)
from helpers import connect
from team_server import ALICE, BOB, serving_team
from teams_support import PROVIDER, TOKEN, point_at

from multichat.runtime import UNTRUSTED_NOTICE
from multichat.runtime.untrusted import unmark_untrusted
from multichat.runtime.users import user_token_path

READERS = {
    "list_channels",
    "get_channel_history",
    "get_thread",
    "search_messages",
    "list_users",
    "get_my_mentions",
    "catch_up",
}
WRITERS = {"send_message", "reply_to_thread", "edit_message", "delete_message", "add_reaction"}
WATERMARKS = Path(".multichat", "state", PROVIDER, "channel-watermarks.json")


async def call(workspace: Path, tool: str, **arguments: Any) -> Any:
    async with connect(workspace) as client:
        result = await client.call_tool(f"{PROVIDER}_{tool}", arguments)
    return result.structured_content


def texts(messages: list[dict[str, Any]]) -> list[str]:
    return [unmark_untrusted(m["text"]) for m in messages]


def root_of(world: GraphWorld, text: str) -> dict[str, Any]:
    for items in (*world.channel_messages.values(), *world.chat_messages.values()):
        for item in items:
            if text in item["body"]["content"]:
                return item
    raise AssertionError(text)


# ---- what is served --------------------------------------------------------------------------


async def test_the_twelve_tools_and_mark_read_are_served(teams_workspace, graph):
    async with connect(teams_workspace) as client:
        tools = {tool.name: tool for tool in await client.list_tools()}

    names = READERS | WRITERS | {"mark_read", "provider_info", "whoami"}
    assert set(tools) == {f"{PROVIDER}_{name}" for name in names}
    for name in READERS:
        assert tools[f"{PROVIDER}_{name}"].annotations.read_only_hint is True


async def test_whoami_is_graph_me(teams_workspace, graph):
    me = await call(teams_workspace, "whoami")

    assert me == {
        "id": ME["id"],
        "username": "robin@contoso.com",
        "name": "Robin Kline",
        "is_bot": False,
    }


# ---- readers ---------------------------------------------------------------------------------


async def test_list_channels_gives_team_channels_then_chats_across_pages(teams_workspace, graph):
    everything = await call(teams_workspace, "list_channels")
    pages: list[list[str]] = []
    cursor = None
    for _ in range(10):
        page = await call(teams_workspace, "list_channels", limit=1, cursor=cursor)
        pages.append([c["id"] for c in page["channels"]])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    direct = await call(teams_workspace, "list_channels", types=["direct"])

    channels = {c["id"]: c for c in everything["channels"]}
    assert list(channels) == [GENERAL_PATH, INCIDENTS_PATH, ONE_ON_ONE_PATH, GROUP_PATH]
    assert [c["kind"] for c in channels.values()] == ["public", "private", "direct", "group"]
    assert channels[GENERAL_PATH]["name"] == "Contoso Engineering / General"
    assert channels[GENERAL_PATH]["topic"] == "Everything"
    assert channels[ONE_ON_ONE_PATH]["name"] == "Jane Smith"
    assert channels[GROUP_PATH]["name"] == "Launch crew"
    assert pages == [[GENERAL_PATH], [INCIDENTS_PATH], [ONE_ON_ONE_PATH], [GROUP_PATH]]
    assert [c["id"] for c in direct["channels"]] == [ONE_ON_ONE_PATH]


async def test_channel_history_is_newest_first_with_markdown_names_and_reply_counts(
    teams_workspace, graph
):
    page = await call(teams_workspace, "get_channel_history", channel_id=GENERAL_PATH, limit=200)

    assert page["notice"] == UNTRUSTED_NOTICE
    got = texts(page["messages"])
    assert "<systemEventMessage/>" not in "".join(got)  # system events are left out
    assert got[0] == "Build 5 is green"
    assert got[-1] == "Welcome to General"
    ask = next(m for m in page["messages"] if "flamegraph" in m["text"])
    assert unmark_untrusted(ask["text"]) == (
        "@Robin Kline can you check the [flamegraph](https://grafana.contoso.com/d/1)?"
    )
    assert (ask["author"], ask["reactions"]) == ("Jane Smith", {"eyes": 1})
    post = next(m for m in page["messages"] if "train" in m["text"])
    assert unmark_untrusted(post["text"]) == "Release **train** leaves at 3"
    assert post["reply_count"] == 2
    assert {m["channel_name"] for m in page["messages"]} == {"Contoso Engineering / General"}


async def test_channel_history_pages_by_next_link_and_stops_at_the_window(
    teams_workspace, graph, graph_fake: FakeGraph
):
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        page = await call(
            teams_workspace,
            "get_channel_history",
            channel_id=GENERAL_PATH,
            limit=3,
            cursor=cursor,
            oldest=graph.ago(150),
        )
        seen += texts(page["messages"])
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert seen == [f"Build {n} is green" for n in range(5, 0, -1)] + [
        "@Robin Kline can you check the [flamegraph](https://grafana.contoso.com/d/1)?"
    ]
    pages = graph_fake.calls("channel_messages")
    assert [call.arguments.get("$skiptoken") for call in pages] == [None, "3", "6"]
    assert all(call.arguments["$top"] == 3 for call in pages)
    with pytest.raises(ToolError, match="not a cursor this tool gave"):
        await call(teams_workspace, "get_channel_history", channel_id=GENERAL_PATH, cursor="me")


async def test_chat_history_filters_latest_on_the_server(
    teams_workspace, graph, graph_fake: FakeGraph
):
    page = await call(
        teams_workspace, "get_channel_history", channel_id=ONE_ON_ONE_PATH, latest=graph.ago(25)
    )

    assert texts(page["messages"]) == ["Running *late*", "Sure", "Lunch?"]
    [sent] = graph_fake.calls("chat_messages")
    assert sent.arguments["$orderby"] == "createdDateTime desc"
    assert sent.arguments["$filter"].startswith("createdDateTime lt ")


async def test_get_thread_from_the_root_or_a_reply_and_chats_have_none(teams_workspace, graph):
    post = root_of(graph, "train")
    root_id = f"{GENERAL_PATH}/messages/{post['id']}"
    reply_id = f"{root_id}/replies/{post['replies'][0]['id']}"
    chat_message = root_of(graph, "Lunch?")

    from_root = await call(teams_workspace, "get_thread", message_id=root_id)
    from_reply = await call(teams_workspace, "get_thread", message_id=reply_id)
    in_chat = await call(
        teams_workspace,
        "get_thread",
        message_id=f"{ONE_ON_ONE_PATH}/messages/{chat_message['id']}",
    )

    for thread in (from_root, from_reply):
        assert thread["root"]["id"] == root_id
        assert texts(thread["replies"]) == ["on board", "me too"]
        assert [r["thread_id"] for r in thread["replies"]] == [root_id, root_id]
        assert thread["replies"][0]["id"] == reply_id
    assert texts([in_chat["root"]]) == ["Lunch?"]
    assert in_chat["replies"] == []


async def test_search_uses_the_search_api_and_pages_by_offset(
    teams_workspace, graph, graph_fake: FakeGraph
):
    everywhere = await call(teams_workspace, "search_messages", query="flamegraph")
    first = await call(teams_workspace, "search_messages", query="flamegraph", limit=1)
    second = await call(
        teams_workspace, "search_messages", query="flamegraph", limit=1, cursor=first["next_cursor"]
    )
    in_general = await call(
        teams_workspace, "search_messages", query="flamegraph", channel_id=GENERAL_PATH
    )

    assert [m["channel_id"] for m in everywhere["messages"]] == [ONE_ON_ONE_PATH, GENERAL_PATH]
    assert [m["channel_name"] for m in everywhere["messages"]] == [
        "Jane Smith",
        "Contoso Engineering / General",
    ]
    assert everywhere["messages"][0]["author_id"] == "jane@contoso.com"
    assert texts(everywhere["messages"])[0] == "...Order the flamegraph pizza for me"
    assert first["next_cursor"] == "1"
    assert [m["id"] for m in first["messages"] + second["messages"]] == [
        m["id"] for m in everywhere["messages"]
    ]
    assert [m["channel_id"] for m in in_general["messages"]] == [GENERAL_PATH]
    request = graph_fake.calls("search_query")[0].body["requests"][0]
    assert request == {
        "entityTypes": ["chatMessage"],
        "query": {"queryString": "flamegraph"},
        "from": 0,
        "size": 20,
    }


async def test_mentions_ask_the_search_api_for_is_mentioned(
    teams_workspace, graph, graph_fake: FakeGraph
):
    page = await call(teams_workspace, "get_my_mentions")

    assert [m["id"] for m in page["messages"]] == [
        f"{GENERAL_PATH}/messages/{root_of(graph, 'flamegraph</a>')['id']}"
    ]
    request = graph_fake.calls("search_query")[0].body["requests"][0]
    assert request["query"] == {"queryString": "IsMentioned:true"}


async def test_list_users_pages_by_next_link(teams_workspace, graph):
    first = await call(teams_workspace, "list_users", limit=2)
    rest = await call(teams_workspace, "list_users", limit=2, cursor=first["next_cursor"])

    assert [u["name"] for u in first["users"] + rest["users"]] == [
        "Robin Kline",
        "Jane Smith",
        "Nick Fury",
    ]
    assert first["users"][1]["username"] == "jane@contoso.com"
    assert rest["next_cursor"] is None


async def test_catch_up_reads_chat_markers_and_keeps_a_channel_watermark(teams_workspace, graph):
    state = teams_workspace / WATERMARKS
    state.unlink(missing_ok=True)

    first = await call(teams_workspace, "catch_up", per_channel=10)
    second = await call(teams_workspace, "catch_up", per_channel=10)

    counts = {news["channel_id"]: news["unread_count"] for news in first["channels"]}
    # Jane's two messages after Robin read the chat; General's posts of the last day (not
    # Robin's own, not the system event); Incidents and the group chat have nothing new.
    assert counts == {GENERAL_PATH: 7, ONE_ON_ONE_PATH: 2}
    assert first["channels"][0]["channel_id"] == GENERAL_PATH  # it mentions Robin
    assert first["channels"][0]["mentions_of_me"] == 1
    assert first["channels_checked"] == 4
    assert "no read marker for channel messages" in first["note"]
    assert str(WATERMARKS) in first["note"]
    assert {news["channel_id"] for news in second["channels"]} == {ONE_ON_ONE_PATH}
    marks = json.loads(state.read_text())
    assert set(marks) == {GENERAL_PATH, INCIDENTS_PATH}
    assert state.stat().st_mode & 0o777 == 0o600
    state.unlink()


async def test_on_a_team_server_each_person_has_their_own_channel_watermarks(
    teams_workspace, graph
):
    (teams_workspace / WATERMARKS).unlink(missing_ok=True)
    token = {"access_token": TOKEN}
    with serving_team(teams_workspace, PROVIDER, {ALICE: token, BOB: token}) as team:
        async with team.client(ALICE) as alice, team.client(BOB) as bob:
            alice_first = (await alice.call_tool(f"{PROVIDER}_catch_up", {})).structured_content
            alice_again = (await alice.call_tool(f"{PROVIDER}_catch_up", {})).structured_content
            bob_first = (await bob.call_tool(f"{PROVIDER}_catch_up", {})).structured_content

    def channels(answer: Any) -> set[str]:
        return {news["channel_id"] for news in answer["channels"]}

    assert GENERAL_PATH in channels(alice_first)
    assert GENERAL_PATH not in channels(alice_again)
    assert GENERAL_PATH in channels(bob_first)  # Alice's catch-up moved only her watermark
    assert "for you alone" in alice_first["note"]
    assert ".multichat" not in alice_first["note"]
    assert not (teams_workspace / WATERMARKS).exists()
    for person in (ALICE, BOB):
        folder = user_token_path(teams_workspace, person, PROVIDER).with_name("state")
        kept = folder / "channel-watermarks.json"
        assert GENERAL_PATH in json.loads(kept.read_text())
        shutil.rmtree(folder)


async def test_mark_read_marks_a_chat_and_refuses_a_channel(
    teams_workspace, graph, graph_fake: FakeGraph
):
    marked = await call(teams_workspace, "mark_read", channel_id=ONE_ON_ONE_PATH)
    with pytest.raises(ToolError, match="no read marker for channel messages"):
        await call(teams_workspace, "mark_read", channel_id=GENERAL_PATH)
    after = await call(teams_workspace, "catch_up")
    (teams_workspace / WATERMARKS).unlink()

    assert marked == {"channel_id": ONE_ON_ONE_PATH, "marked_read": True}
    [request] = graph_fake.calls("chat_markRead")
    assert request.body == {"user": {"id": ME["id"], "tenantId": TENANT}}
    assert ONE_ON_ONE_PATH not in {news["channel_id"] for news in after["channels"]}


# ---- writers ---------------------------------------------------------------------------------


async def test_send_reply_edit_react_and_delete_in_a_channel(
    teams_workspace, graph, graph_fake: FakeGraph
):
    sent = await call(
        teams_workspace, "send_message", channel_id=GENERAL_PATH, text="Deploy is **done** <b>"
    )
    reply = await call(teams_workspace, "reply_to_thread", message_id=sent["id"], text="_nice_")
    edited = await call(teams_workspace, "edit_message", message_id=reply["id"], text="nicer")
    reacted = await call(teams_workspace, "add_reaction", message_id=sent["id"], emoji="tada")
    deleted = await call(teams_workspace, "delete_message", message_id=reply["id"])
    thread = await call(teams_workspace, "get_thread", message_id=sent["id"])

    [post] = graph_fake.calls("channel_post")
    assert post.body == {
        "body": {
            "contentType": "html",
            "content": "<p>Deploy is <strong>done</strong> &lt;b&gt;</p>",
        }
    }
    assert unmark_untrusted(sent["text"]) == "Deploy is **done** <b>"
    assert sent["author"] == "Robin Kline"
    assert reply["thread_id"] == sent["id"]
    assert reply["id"].startswith(f"{sent['id']}/replies/")
    assert graph_fake.calls("reply_update")[0].body["body"]["content"] == "<p>nicer</p>"
    assert (edited["edited"], unmark_untrusted(edited["text"])) == (True, "nicer")
    assert graph_fake.calls("channel_message_setReaction")[0].body == {"reactionType": "🎉"}
    assert reacted["reactions"] == {"tada": 1}
    assert deleted == {"message_id": reply["id"], "deleted": True}
    assert len(graph_fake.calls("reply_softDelete")) == 1
    assert thread["replies"] == []  # soft-deleted replies are left out


async def test_send_edit_delete_in_a_chat_and_no_threads_there(
    teams_workspace, graph, graph_fake: FakeGraph
):
    sent = await call(teams_workspace, "send_message", channel_id=ONE_ON_ONE_PATH, text="hi")
    with pytest.raises(ToolError, match="Teams chats have no threads"):
        await call(teams_workspace, "reply_to_thread", message_id=sent["id"], text="x")
    await call(teams_workspace, "edit_message", message_id=sent["id"], text="hello")
    await call(teams_workspace, "delete_message", message_id=sent["id"])
    history = await call(teams_workspace, "get_channel_history", channel_id=ONE_ON_ONE_PATH)

    [delete] = graph_fake.calls("chat_message_softDelete")
    assert delete.path.endswith(f"/users/{ME['id']}/{sent['id']}/softDelete")
    assert sent["id"] not in {m["id"] for m in history["messages"]}
    assert graph_fake.calls("reply_post") == []


async def test_a_message_over_28000_bytes_of_html_is_refused_before_any_request(
    teams_workspace, graph, graph_fake: FakeGraph
):
    with pytest.raises(ToolError) as refused:
        await call(teams_workspace, "send_message", channel_id=GROUP_PATH, text="a" * 27994)
    fits = await call(teams_workspace, "send_message", channel_id=GROUP_PATH, text="a" * 27993)

    assert "Microsoft Teams takes at most 28,000 bytes per message; this one has 28,001" in str(
        refused.value
    )
    assert len(graph_fake.calls("chat_post")) == 1
    assert unmark_untrusted(fits["text"]) == "a" * 27993


async def test_malformed_ids_and_unknown_emoji_are_refused_before_any_request(
    teams_workspace, graph, graph_fake: FakeGraph
):
    with pytest.raises(ToolError, match="not a Teams channel id"):
        await call(teams_workspace, "send_message", channel_id="chats/../me", text="x")
    with pytest.raises(ToolError, match="not a Teams message id"):
        await call(teams_workspace, "get_thread", message_id=f"{GENERAL_PATH}/messages/x")
    with pytest.raises(ToolError, match="no emoji is called"):
        await call(
            teams_workspace,
            "add_reaction",
            message_id=f"{GENERAL_PATH}/messages/1",
            emoji="notanemoji",
        )

    assert graph_fake.requests == []


# ---- the platform saying no ------------------------------------------------------------------


async def test_graph_throttling_is_retried_after_retry_after(
    teams_workspace, graph: GraphWorld, graph_fake: FakeGraph
):
    graph_fake.on("users_list", graph_fake.rate_limited(0), graph.users)

    page = await call(teams_workspace, "list_users")

    assert len(page["users"]) == 3
    assert len(graph_fake.calls("users_list")) == 2


async def test_throttled_every_time_is_one_readable_error(teams_workspace, graph, graph_fake):
    graph_fake.on("users_list", graph_fake.rate_limited(0))

    with pytest.raises(ToolError, match=r"still failed after 4 attempts \(rate limited"):
        await call(teams_workspace, "list_users")


@pytest.mark.parametrize(
    "reason",
    [
        "Access token has expired or is not yet valid.",
        "Access token validation failure. Invalid audience.",
    ],
)
async def test_an_expired_or_revoked_token_names_the_command_that_fixes_it(
    teams_workspace, graph, graph_fake: FakeGraph, reason: str
):
    graph_fake.on("me_get", token_rejected(reason))

    with pytest.raises(ToolError) as failed:
        await call(teams_workspace, "whoami")

    assert f"run `multichat auth {PROVIDER}`" in str(failed.value)
    assert reason in str(failed.value)


# ---- configuration ---------------------------------------------------------------------------


async def test_read_only_hides_every_writer_and_mark_read(
    teams_workspace, graph, graph_base, tmp_path
):
    workspace = tmp_path / "copy"
    shutil.copytree(teams_workspace, workspace)
    point_at(workspace, graph_base, read_only=True)

    async with connect(workspace) as client:
        names = {tool.name for tool in await client.list_tools()}

    assert names == {f"{PROVIDER}_{name}" for name in READERS | {"provider_info", "whoami"}}
