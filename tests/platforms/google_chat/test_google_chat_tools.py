"""The google_chat preset's tools through a real MCP client, in memory, against the fake Chat.

Every request the preset sends is checked against chat.v1.json by the fake (``world`` fails
the test otherwise); the assertions here are about what the tools answer and what they sent.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from fastmcp.exceptions import ToolError
from google_chat_support import PROVIDER, point_at
from google_chat_world import DM, ENG, GROUP, LEADS, GoogleChatWorld
from helpers import connect
from support.fake_platform import FakePlatform

from multichat.runtime import UNTRUSTED_NOTICE
from multichat.runtime.untrusted import unmark_untrusted

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


async def call(workspace: Path, tool: str, **arguments: Any) -> Any:
    async with connect(workspace) as client:
        result = await client.call_tool(f"{PROVIDER}_{tool}", arguments)
    return result.structured_content


def texts(page: dict[str, Any]) -> list[str]:
    return [unmark_untrusted(m["text"]) for m in page["messages"]]


def ids(page: dict[str, Any]) -> list[str]:
    return [m["id"] for m in page["messages"]]


# ---- what is served --------------------------------------------------------------------------


async def test_the_twelve_tools_and_mark_read_are_served(gchat_workspace, world):
    async with connect(gchat_workspace) as client:
        tools = {tool.name: tool for tool in await client.list_tools()}
        info = (await client.call_tool(f"{PROVIDER}_provider_info", {})).structured_content

    names = READERS | WRITERS | {"mark_read", "provider_info", "whoami"}
    assert set(tools) == {f"{PROVIDER}_{name}" for name in names}
    for name in READERS:
        assert tools[f"{PROVIDER}_{name}"].annotations.read_only_hint is True
    for name in WRITERS | {"mark_read"}:
        assert tools[f"{PROVIDER}_{name}"].annotations.read_only_hint is False
    assert info["platform"] == "Google Chat"
    assert info["unavailable_tools"] == {}


async def test_whoami_is_the_userinfo_answer_in_chat_terms(gchat_workspace, world):
    me = await call(gchat_workspace, "whoami")

    assert me == {
        "id": "users/111",
        "username": "ada@example.com",
        "name": "Ada Lovelace",
        "is_bot": False,
    }


# ---- readers ---------------------------------------------------------------------------------


async def test_list_channels_names_every_kind_of_space(gchat_workspace, world):
    page = await call(gchat_workspace, "list_channels")

    channels = {channel["id"]: channel for channel in page["channels"]}
    assert list(channels) == [ENG, LEADS, DM, GROUP]
    assert [channels[c]["kind"] for c in channels] == ["public", "private", "direct", "group"]
    assert channels[ENG]["name"] == "Engineering"
    assert channels[ENG]["topic"] == "Build and deploy"
    assert channels[ENG]["member_count"] == 3
    assert channels[DM]["name"] == "Grace Hopper"
    assert channels[GROUP]["name"] == "Grace Hopper, Alan Turing"
    assert all(channel["is_member"] for channel in channels.values())
    assert page["next_cursor"] is None


async def test_list_channels_pages_and_filters_by_space_type(
    gchat_workspace, world, google_fake: FakePlatform
):
    first = await call(gchat_workspace, "list_channels", limit=2)
    rest = await call(gchat_workspace, "list_channels", limit=2, cursor=first["next_cursor"])
    private = await call(gchat_workspace, "list_channels", types=["private"])
    direct = await call(gchat_workspace, "list_channels", types=["direct", "group"])

    assert [c["id"] for c in first["channels"] + rest["channels"]] == [ENG, LEADS, DM, GROUP]
    assert rest["next_cursor"] is None
    assert [c["id"] for c in private["channels"]] == [LEADS]
    assert [c["id"] for c in direct["channels"]] == [DM, GROUP]
    filters = [call.arguments.get("filter") for call in google_fake.calls("chat.spaces.list")]
    assert 'spaceType = "SPACE"' in filters
    assert 'spaceType = "DIRECT_MESSAGE" OR spaceType = "GROUP_CHAT"' in filters


async def test_history_is_newest_first_top_level_with_names_and_markdown(gchat_workspace, world):
    page = await call(gchat_workspace, "get_channel_history", channel_id=ENG, limit=50)

    assert page["notice"] == UNTRUSTED_NOTICE
    got = {m["id"]: m for m in page["messages"]}
    assert f"{ENG}/messages/m2.m2" not in got  # a reply: get_thread shows it
    times = [m["sent_at"] for m in page["messages"]]
    assert times == sorted(times, reverse=True)
    mention = got[f"{ENG}/messages/m4.m4"]
    assert unmark_untrusted(mention["text"]) == (
        "@Ada Lovelace can you check the *flamegraph*? [dashboard](https://grafana.example/d/1)"
    )
    assert mention["author"] == "Grace Hopper"
    assert mention["reactions"] == {"eyes": 2}
    assert got[f"{ENG}/messages/m1.m1"]["reply_count"] == 2
    # The answer named no sender for m5: its space's membership did.
    assert got[f"{ENG}/messages/m5.m5"]["author"] == "Alan Turing"
    assert unmark_untrusted(got[f"{ENG}/messages/m1.m1"]["text"]) == "Deploy **window** opens at 10"
    assert {m["channel_name"] for m in page["messages"]} == {"Engineering"}


async def test_history_pages_through_a_time_window(
    gchat_workspace, world, google_fake: FakePlatform
):
    window = {"oldest": "2026-11-30T09:04:00Z", "latest": "2026-11-30T09:15:00Z"}
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        page = await call(
            gchat_workspace, "get_channel_history", channel_id=ENG, limit=2, cursor=cursor, **window
        )
        seen += ids(page)
        cursor = page["next_cursor"]
        if cursor is None:
            break

    keys = [name.rsplit("/", 1)[1].split(".")[0] for name in seen]
    assert keys == ["b4", "b3", "b2", "b1", "m5", "m4"]
    sent = google_fake.calls("chat.spaces.messages.list")[0].arguments
    assert sent["filter"] == (
        'create_time > "2026-11-30T09:04:00Z" AND create_time < "2026-11-30T09:15:00Z"'
    )
    assert sent["orderBy"] == "createTime desc"
    assert sent["markupSyntax"] == "MARKUP_SYNTAX_CHAT"


async def test_get_thread_from_its_root_a_reply_or_the_thread_name(gchat_workspace, world):
    from_root = await call(gchat_workspace, "get_thread", message_id=f"{ENG}/messages/m1.m1")
    from_reply = await call(gchat_workspace, "get_thread", message_id=f"{ENG}/messages/m2.m2")
    from_name = await call(gchat_workspace, "get_thread", message_id=f"{ENG}/threads/m1")

    for thread in (from_root, from_reply, from_name):
        assert thread["root"]["id"] == f"{ENG}/messages/m1.m1"
        assert [r["id"] for r in thread["replies"]] == [
            f"{ENG}/messages/m2.m2",
            f"{ENG}/messages/m3.m3",
        ]
        assert all(r["thread_id"] == f"{ENG}/threads/m1" for r in thread["replies"])
        assert thread["root"]["reply_count"] == 2


async def test_search_quotes_each_word_and_narrows_to_a_space(
    gchat_workspace, world, google_fake: FakePlatform
):
    everywhere = await call(gchat_workspace, "search_messages", query="flamegraph")
    in_eng = await call(gchat_workspace, "search_messages", query='flamegraph "', channel_id=ENG)

    assert ids(everywhere) == [f"{GROUP}/messages/g1.g1", f"{ENG}/messages/m4.m4"]
    assert [m["channel_name"] for m in everywhere["messages"]] == [
        "Grace Hopper, Alan Turing",
        "Engineering",
    ]
    assert ids(in_eng) == [f"{ENG}/messages/m4.m4"]
    filters = [c.body["filter"] for c in google_fake.calls("chat.spaces.messages.search")]
    assert filters == ['"flamegraph"', f'"flamegraph" AND space.name = "{ENG}"']


async def test_mentions_use_the_me_alias(gchat_workspace, world, google_fake: FakePlatform):
    page = await call(gchat_workspace, "get_my_mentions")

    assert ids(page) == [f"{ENG}/messages/m4.m4"]
    [sent] = google_fake.calls("chat.spaces.messages.search")
    assert sent.body["filter"] == "annotations.user_mentions.user.name:users/me"


async def test_list_users_gathers_the_members_of_my_spaces_and_pages(gchat_workspace, world):
    everyone = await call(gchat_workspace, "list_users")
    first = await call(gchat_workspace, "list_users", limit=3)
    rest = await call(gchat_workspace, "list_users", limit=3, cursor=first["next_cursor"])

    names = [(u["id"], u["name"], u["is_bot"]) for u in everyone["users"]]
    assert names == [
        ("users/111", "Ada Lovelace", False),
        ("users/333", "Alan Turing", False),
        ("users/444", "Deploy Bot", True),
        ("users/222", "Grace Hopper", False),
    ]
    assert [u["id"] for u in first["users"] + rest["users"]] == [n[0] for n in names]
    assert rest["next_cursor"] is None
    with pytest.raises(ToolError, match="not a cursor"):
        await call(gchat_workspace, "list_users", cursor="spaces/x")


async def test_catch_up_counts_top_level_messages_after_each_read_state(gchat_workspace, world):
    brief = await call(gchat_workspace, "catch_up", per_channel=3)
    wide = await call(gchat_workspace, "catch_up", per_channel=10)

    counts = {news["channel_id"]: news["unread_count"] for news in brief["channels"]}
    assert counts == {ENG: 9, DM: 1}  # m4, m5, b1-b7; Leads and the group chat are read
    assert brief["channels_checked"] == 4
    assert brief["total_unread"] == 10
    assert [len(news["latest"]) for news in brief["channels"]] == [3, 1]
    assert [news["mentions_of_me"] for news in wide["channels"]] == [1, 0]
    assert "spaceReadState" in brief["note"]
    dm = next(news for news in brief["channels"] if news["channel_id"] == DM)
    assert dm["channel_name"] == "Grace Hopper"
    assert texts({"messages": dm["latest"]}) == ["Lunch at **noon**?"]


async def test_mark_read_moves_the_read_state_so_catch_up_skips_the_space(
    gchat_workspace, world: GoogleChatWorld, google_fake: FakePlatform
):
    marked = await call(gchat_workspace, "mark_read", channel_id=DM)
    after = await call(gchat_workspace, "catch_up")

    assert marked == {"channel_id": DM, "marked_read": True}
    [update] = google_fake.calls("chat.users.spaces.updateSpaceReadState")
    assert update.path.endswith(f"/v1/users/me/{DM}/spaceReadState")
    assert update.arguments["updateMask"] == "last_read_time"
    assert DM not in {news["channel_id"] for news in after["channels"]}


# ---- writers ---------------------------------------------------------------------------------


async def test_send_reply_edit_react_and_delete_round_trip(
    gchat_workspace, world: GoogleChatWorld, google_fake: FakePlatform
):
    sent = await call(
        gchat_workspace,
        "send_message",
        channel_id=ENG,
        text="Deploy is **done**, see [x](https://x.org)",
    )
    reply = await call(
        gchat_workspace, "reply_to_thread", message_id=f"{ENG}/messages/m4.m4", text="_on it_"
    )
    edited = await call(gchat_workspace, "edit_message", message_id=sent["id"], text="Done ~~now~~")
    reacted = await call(gchat_workspace, "add_reaction", message_id=sent["id"], emoji="tada")
    again = await call(
        gchat_workspace, "add_reaction", message_id=f"{ENG}/messages/m4.m4", emoji="eyes"
    )
    deleted = await call(gchat_workspace, "delete_message", message_id=sent["id"])
    history = await call(gchat_workspace, "get_channel_history", channel_id=ENG, limit=50)

    [create, create_reply] = google_fake.calls("chat.spaces.messages.create")
    assert create.body == {
        "text": "Deploy is *done*, see <https://x.org|x>",
        "markupSyntax": "MARKUP_SYNTAX_CHAT",
    }
    assert unmark_untrusted(sent["text"]) == "Deploy is **done**, see [x](https://x.org)"
    assert sent["author"] == "Ada Lovelace"
    assert create_reply.body["thread"] == {"name": f"{ENG}/threads/m4"}
    assert create_reply.arguments["messageReplyOption"] == "REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD"
    assert reply["thread_id"] == f"{ENG}/threads/m4"
    [patch] = google_fake.calls("chat.spaces.messages.patch")
    assert patch.arguments["updateMask"] == "text"
    assert patch.body["text"] == "Done ~now~"
    assert edited["edited"] is True
    [tada, eyes] = google_fake.calls("chat.spaces.messages.reactions.create")
    assert (tada.body, eyes.body) == ({"emoji": {"unicode": "🎉"}}, {"emoji": {"unicode": "👀"}})
    assert reacted["reactions"] == {"tada": 1}
    assert again["reactions"] == {"eyes": 3}
    assert deleted == {"message_id": sent["id"], "deleted": True}
    assert sent["id"] not in ids(history)


async def test_a_message_over_32000_bytes_is_refused_before_any_request(
    gchat_workspace, world, google_fake: FakePlatform
):
    with pytest.raises(ToolError) as refused:
        await call(gchat_workspace, "send_message", channel_id=ENG, text="😀" * 8001)
    fits = await call(gchat_workspace, "send_message", channel_id=ENG, text="😀" * 8000)

    assert "Google Chat takes at most 32,000 bytes per message; this one has 32,004" in str(
        refused.value
    )
    assert len(google_fake.calls("chat.spaces.messages.create")) == 1
    assert unmark_untrusted(fits["text"]) == "😀" * 8000


async def test_an_unknown_emoji_and_malformed_ids_are_refused_before_any_request(
    gchat_workspace, world, google_fake: FakePlatform
):
    with pytest.raises(ToolError, match="no emoji is called 'nosuchemoji'"):
        await call(
            gchat_workspace, "add_reaction", message_id=f"{ENG}/messages/m4.m4", emoji="nosuchemoji"
        )
    with pytest.raises(ToolError, match="not a Google Chat message id"):
        await call(gchat_workspace, "get_thread", message_id="spaces/x/../../oauth")
    with pytest.raises(ToolError, match="not a Google Chat space id"):
        await call(gchat_workspace, "send_message", channel_id="spaces/a/b", text="hi")

    assert google_fake.requests == []


# ---- the platform saying no ------------------------------------------------------------------


async def test_a_429_with_retry_after_is_retried(
    gchat_workspace, world: GoogleChatWorld, google_fake: FakePlatform
):
    google_fake.on("chat.spaces.list", google_fake.rate_limited(0), world.list_spaces)

    page = await call(gchat_workspace, "list_channels")

    assert len(page["channels"]) == 4
    assert len(google_fake.calls("chat.spaces.list")) == 2


async def test_a_429_every_time_ends_in_one_readable_error(gchat_workspace, world, google_fake):
    google_fake.on("chat.spaces.messages.search", google_fake.rate_limited(0))

    with pytest.raises(ToolError) as failed:
        await call(gchat_workspace, "search_messages", query="deploy")

    assert "still failed after 4 attempts (rate limited (HTTP 429))" in str(failed.value)
    assert len(google_fake.calls("chat.spaces.messages.search")) == 4


@pytest.mark.parametrize(
    "reason",
    [
        # Google's answer to a revoked token and to an expired one alike (401 UNAUTHENTICATED,
        # https://cloud.google.com/apis/design/errors#http_mapping).
        "Request had invalid authentication credentials. Expected OAuth 2 access token, login "
        "cookie or other valid authentication credential.",
        "Request had invalid authentication credentials. The access token expired.",
    ],
)
async def test_a_rejected_token_names_the_command_that_fixes_it(
    gchat_workspace, world, google_fake: FakePlatform, reason: str
):
    from support.fake_platform import Reply

    body = {"error": {"code": 401, "message": reason, "status": "UNAUTHENTICATED"}}
    google_fake.on("chat.spaces.list", Reply(body, 401))

    with pytest.raises(ToolError) as failed:
        await call(gchat_workspace, "list_channels")

    message = str(failed.value)
    assert f"run `multichat auth {PROVIDER}`" in message
    assert reason in message
    assert "\n" not in message


async def test_a_token_expired_on_disk_without_refresh_token_asks_for_sign_in(
    gchat_workspace, world, google_fake: FakePlatform, monkeypatch, tmp_path
):
    monkeypatch.delenv(f"MULTICHAT_{PROVIDER.upper()}_TOKEN")
    workspace = copy_workspace(gchat_workspace, tmp_path)
    token = workspace / "src" / "providers" / PROVIDER / "token.json"
    token.write_text(json.dumps({"access_token": "ya29.old", "expires_at": time.time() - 3600}))
    token.chmod(0o600)

    with pytest.raises(ToolError, match=f"run `multichat auth {PROVIDER}`"):
        await call(workspace, "list_channels")

    assert google_fake.requests == []


# ---- configuration ---------------------------------------------------------------------------


def copy_workspace(workspace: Path, tmp_path: Path) -> Path:
    target = tmp_path / "copy"
    shutil.copytree(workspace, target)
    return target


async def test_read_only_hides_every_writer_and_mark_read(
    gchat_workspace, world, google_url, tmp_path
):
    workspace = copy_workspace(gchat_workspace, tmp_path)
    point_at(workspace, google_url, read_only=True)

    async with connect(workspace) as client:
        names = {tool.name for tool in await client.list_tools()}
        for writer in sorted(WRITERS | {"mark_read"}):
            with pytest.raises(ToolError, match="Unknown tool"):
                await client.call_tool(f"{PROVIDER}_{writer}", {"channel_id": ENG, "text": "x"})
        page = (await client.call_tool(f"{PROVIDER}_list_channels", {})).structured_content

    assert names == {f"{PROVIDER}_{name}" for name in READERS | {"provider_info", "whoami"}}
    assert len(page["channels"]) == 4
