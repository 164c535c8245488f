"""The discord preset's chat tools in memory, through a real MCP client, against the fake Discord.

Every request the adapter sends and every answer the fake gives is checked against Discord's
own API description (tests/support/specs/discord/openapi.json); the world behind the fake is
``discord_world.DiscordWorld``, fresh for each test.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from discord_world import (
    ADA,
    BOT,
    BOTLAB,
    DM_ADA,
    ENGINEERING,
    GENERAL,
    GRACE,
    GUILD_A,
    GUILD_B,
    LINUS,
    PARTYPARROT,
    PROVIDER,
    RANDOM,
    SECRET,
    TOKEN,
    global_rate_limited,
    index_not_ready,
)
from fastmcp import Client
from fastmcp.exceptions import ToolError
from helpers import connect
from ruamel.yaml import YAML
from team_server import ALICE, BOB, serving_team

from multichat.platforms.discord import MENTIONS_NOTE, Adapter
from multichat.runtime import UNTRUSTED_NOTICE
from multichat.runtime.untrusted import BEGIN, END, unmark_untrusted
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
BASIC = {"provider_info", "whoami"}


async def call(client: Client[Any], tool: str, **arguments: Any) -> Any:
    return (await client.call_tool(f"{PROVIDER}_{tool}", arguments)).structured_content


def texts(page: dict[str, Any]) -> list[str]:
    return [unmark_untrusted(message["text"]) for message in page["messages"]]


def mid(channel: str, message: str) -> str:
    return f"{channel}:{message}"


# ---- what is served ------------------------------------------------------------------------


async def test_the_twelve_tools_are_served_and_provider_info_says_discord(dc_workspace, world):
    async with connect(dc_workspace) as client:
        tools = {tool.name: tool for tool in await client.list_tools()}
        info = await call(client, "provider_info")

    assert set(tools) == {f"{PROVIDER}_{name}" for name in READERS | WRITERS | BASIC}
    for name in READERS:
        assert tools[f"{PROVIDER}_{name}"].annotations.read_only_hint is True
    for name in WRITERS:
        assert tools[f"{PROVIDER}_{name}"].annotations.read_only_hint is False
    assert info["platform"] == "Discord"
    assert info["authenticated"] is True
    assert info["unavailable_tools"] == {}


async def test_whoami_is_the_bot_and_the_token_is_sent_as_a_bot_token(
    dc_workspace, world, discord_fake
):
    async with connect(dc_workspace) as client:
        me = await call(client, "whoami")

    assert me == {"id": BOT, "username": "multichat-bot", "name": "Multichat", "is_bot": True}
    [request] = discord_fake[0].calls("get_my_user")
    assert request.headers["authorization"] == f"Bot {TOKEN}"


# ---- channels ------------------------------------------------------------------------------


async def test_list_channels_shows_text_channels_and_threads_of_every_guild(dc_workspace, world):
    async with connect(dc_workspace) as client:
        everything = await call(client, "list_channels")
        private = await call(client, "list_channels", types=["private"])
        pages, cursor = [], None
        for _ in range(10):
            page = await call(client, "list_channels", limit=3, cursor=cursor)
            pages.append([channel["id"] for channel in page["channels"]])
            cursor = page["next_cursor"]
            if cursor is None:
                break

    channels = {channel["id"]: channel for channel in everything["channels"]}
    assert list(channels) == [
        GENERAL,
        ENGINEERING,
        SECRET,
        BOTLAB,
        world.started,
        world.forum_post,
        world.private_thread,
        RANDOM,
    ]
    assert channels[GENERAL]["name"] == "general"
    assert channels[GENERAL]["topic"] == "Test Guild · Everything"
    assert channels[RANDOM]["topic"] == "Second Guild"
    assert channels[world.started]["topic"] == "Test Guild · thread in #general"
    assert channels[world.forum_post]["is_member"] is False  # the bot has not joined that post
    assert channels[GENERAL]["last_message_at"] == "2025-06-05T09:29:00Z"
    assert [c["id"] for c in private["channels"]] == [SECRET, world.private_thread]
    assert [len(page) for page in pages] == [3, 3, 2]
    assert [c for page in pages for c in page] == list(channels)


async def test_direct_messages_cannot_be_listed_by_a_bot_and_nothing_is_asked(
    dc_workspace, world, discord_fake
):
    async with connect(dc_workspace) as client:
        direct = await call(client, "list_channels", types=["direct", "group"])
        history = await call(client, "get_channel_history", channel_id=DM_ADA)

    assert direct == {"channels": [], "next_cursor": None}
    assert texts(history) == ["Hi Ada", "Hi bot"]  # a DM's id still works
    assert history["messages"][0]["channel_name"] == "@Ada Lovelace"
    assert not discord_fake[0].calls("list_my_guilds")


# ---- history -------------------------------------------------------------------------------


async def test_history_pages_newest_first_without_repeats(dc_workspace, world, discord_fake):
    async with connect(dc_workspace) as client:
        everything = await call(client, "get_channel_history", channel_id=GENERAL, limit=200)
        paged, cursor = [], None
        for _ in range(10):
            page = await call(
                client, "get_channel_history", channel_id=GENERAL, limit=7, cursor=cursor
            )
            paged += [message["id"] for message in page["messages"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break

    ids = [message["id"] for message in everything["messages"]]
    assert len(ids) == 30
    assert everything["next_cursor"] is None
    times = [message["sent_at"] for message in everything["messages"]]
    assert times == sorted(times, reverse=True)
    assert paged == ids
    assert all(m["id"].startswith(f"{GENERAL}:") for m in everything["messages"])
    # 100 is Discord's most per request (resources/message#get-channel-messages).
    assert all(
        request.arguments["limit"] <= 100 for request in discord_fake[0].calls("list_messages")
    )


async def test_a_time_window_becomes_snowflakes(dc_workspace, world, discord_fake):
    async with connect(dc_workspace) as client:
        window = await call(
            client,
            "get_channel_history",
            channel_id=GENERAL,
            oldest="2025-06-05T09:20:30Z",
            latest="2025-06-05T09:24:30Z",
        )

    assert texts(window) == [f"General message {i}" for i in (24, 23, 22, 21)]
    assert [m["sent_at"] for m in window["messages"]] == [
        f"2025-06-05T09:{minute}:00Z" for minute in (24, 23, 22, 21)
    ]
    assert window["next_cursor"] is None
    [request] = discord_fake[0].calls("list_messages")
    # reference#snowflakes: (unix_ms - 1420070400000) << 22 for 2025-06-05T09:24:30Z.
    latest_ms = 1_749_115_470_000
    assert request.arguments["before"] == str((latest_ms - 1_420_070_400_000) << 22)


# ---- threads -------------------------------------------------------------------------------


async def test_a_thread_started_from_a_message(dc_workspace, world):
    root_id = mid(GENERAL, world.started)
    async with connect(dc_workspace) as client:
        thread = await call(client, "get_thread", message_id=root_id)
        first = await call(client, "get_thread", message_id=root_id, limit=2)
        rest = await call(client, "get_thread", message_id=root_id, cursor=first["next_cursor"])
        history = await call(client, "get_channel_history", channel_id=GENERAL, limit=30)
        inside = await call(client, "get_channel_history", channel_id=world.started)

    assert thread["root"]["id"] == root_id
    assert unmark_untrusted(thread["root"]["text"]) == "Postmortem draft"
    assert [unmark_untrusted(r["text"]) for r in thread["replies"]] == [
        "First reply",
        "Second reply",
        "Third reply",
    ]
    assert {r["thread_id"] for r in thread["replies"]} == {root_id}
    assert {r["channel_name"] for r in thread["replies"]} == {"Postmortem"}
    assert thread["notice"] == UNTRUSTED_NOTICE
    paged = [r["id"] for r in first["replies"] + rest["replies"]]
    assert paged == [r["id"] for r in thread["replies"]]
    [listed] = [m for m in history["messages"] if m["id"] == root_id]
    assert listed["reply_count"] == 3
    assert {m["thread_id"] for m in inside["messages"]} == {root_id}


async def test_a_forum_post_and_a_private_thread(dc_workspace, world):
    post = mid(world.forum_post, world.forum_post)
    hiring = mid(world.private_thread, world.private_thread)
    async with connect(dc_workspace) as client:
        forum = await call(client, "get_thread", message_id=post)
        private = await call(client, "get_thread", message_id=hiring)
        lone = await call(
            client, "get_thread", message_id=mid(GENERAL, world.channels[GENERAL].messages[0].id)
        )

    assert unmark_untrusted(forum["root"]["text"]) == "Idea: dark mode"
    assert [unmark_untrusted(r["text"]) for r in forum["replies"]] == ["Yes please", "No"]
    assert {r["thread_id"] for r in forum["replies"]} == {post}
    # A private thread has no starting message: its first message stands for it.
    assert unmark_untrusted(private["root"]["text"]) == "Candidate list"
    assert [unmark_untrusted(r["text"]) for r in private["replies"]] == ["Looks good"]
    assert {r["thread_id"] for r in private["replies"]} == {hiring}
    assert lone["replies"] == []
    assert lone["next_cursor"] is None


# ---- text both ways ------------------------------------------------------------------------


async def test_discord_markup_is_read_as_markdown_with_names(dc_workspace, world):
    async with connect(dc_workspace) as client:
        history = await call(client, "get_channel_history", channel_id=GENERAL, limit=30)

    by_text = {unmark_untrusted(m["text"]): m for m in history["messages"]}
    assert "ping @Grace Hopper in #engineering for @Mods" in by_text
    release = by_text["**Release** notes are _out_ ~~soon~~"]
    assert release["reactions"] == {"thumbsup": 2, "partyparrot": 1}
    assert (
        f"logs attached\n[build.log](https://cdn.discordapp.com/attachments/{GENERAL}/1/build.log)"
        in by_text
    )
    assert "Deploy finished @Multichat thanks" in by_text


async def test_markdown_is_sent_in_discord_s_dialect_with_real_mentions(
    dc_workspace, world, discord_fake
):
    async with connect(dc_workspace) as client:
        await call(client, "list_users")  # learns grace's id
        sent = await call(
            client,
            "send_message",
            channel_id=BOTLAB,
            text="__Deploy__ is done @grace, see `@grace` and mail a@b.org\n\n#### Notes",
        )

    body = world.last_body
    assert body["content"] == (
        f"**Deploy** is done <@{GRACE}>, see `@grace` and mail a@b.org\n\n**Notes**"
    )
    assert body["allowed_mentions"] == {"parse": ["users"]}  # never @everyone or roles
    assert unmark_untrusted(sent["text"]) == (
        "**Deploy** is done @Grace Hopper, see `@grace` and mail a@b.org\n\n**Notes**"
    )


# ---- writing -------------------------------------------------------------------------------


async def test_send_reply_edit_react_and_delete_round_trip(dc_workspace, world, discord_fake):
    fake = discord_fake[0]
    async with connect(dc_workspace) as client:
        sent = await call(client, "send_message", channel_id=BOTLAB, text="Round trip")
        reply = await call(client, "reply_to_thread", message_id=sent["id"], text="inline reply")
        in_thread = await call(
            client, "reply_to_thread", message_id=mid(GENERAL, world.started), text="in thread"
        )
        edited = await call(client, "edit_message", message_id=sent["id"], text="Edited")
        reacted = await call(client, "add_reaction", message_id=sent["id"], emoji="thumbsup")
        again = await call(client, "add_reaction", message_id=sent["id"], emoji="thumbsup")
        custom = await call(client, "add_reaction", message_id=sent["id"], emoji="partyparrot")
        with pytest.raises(ToolError, match="no emoji named 'nosuchemoji'"):
            await call(client, "add_reaction", message_id=sent["id"], emoji="nosuchemoji")
        deleted = await call(client, "delete_message", message_id=sent["id"])
        after = await call(client, "get_channel_history", channel_id=BOTLAB)

    assert (sent["channel_id"], sent["channel_name"], sent["author_id"]) == (BOTLAB, "bot-lab", BOT)
    assert sent["text"] == f"{BEGIN}Round trip{END}"
    # Starting a thread needs a permission the invite does not ask for: an inline reply.
    reference = fake.calls("create_message")[1].body["message_reference"]
    assert reference == {"message_id": sent["id"].partition(":")[2]}
    assert reply["channel_id"] == BOTLAB
    assert in_thread["channel_id"] == world.started
    assert in_thread["thread_id"] == mid(GENERAL, world.started)
    assert edited["edited"] is True
    assert unmark_untrusted(edited["text"]) == "Edited"
    assert reacted["reactions"] == again["reactions"] == {"thumbsup": 1}
    assert custom["reactions"] == {"thumbsup": 1, "partyparrot": 1}
    paths = [request.path for request in fake.calls("add_my_message_reaction")]
    assert paths[0].endswith("/reactions/%F0%9F%91%8D/@me")
    assert paths[2].endswith(f"/reactions/partyparrot%3A{PARTYPARROT}/@me")
    assert deleted == {"message_id": sent["id"], "deleted": True}
    assert sent["id"] not in [m["id"] for m in after["messages"]]


async def test_changing_someone_elses_message_is_refused_with_discords_reason(dc_workspace, world):
    someone = mid(GENERAL, world.channels[GENERAL].messages[0].id)
    async with connect(dc_workspace) as client:
        with pytest.raises(ToolError) as editing:
            await call(client, "edit_message", message_id=someone, text="mine now")
        with pytest.raises(ToolError) as deleting:
            await call(client, "delete_message", message_id=someone)

    assert "403" in str(editing.value)
    assert "Cannot edit a message authored by another user" in str(editing.value)
    assert "Missing Permissions" in str(deleting.value)


async def test_the_length_limit_is_refused_before_any_request(dc_workspace, world, discord_fake):
    fake = discord_fake[0]
    async with connect(dc_workspace) as client:
        await call(client, "list_users")  # learns grace: her mention counts as sent
        fake.requests.clear()
        failures = []
        for tool, arguments in [
            ("send_message", {"channel_id": BOTLAB, "text": "x" * 2001}),
            ("reply_to_thread", {"message_id": mid(BOTLAB, "1"), "text": "y" * 2001}),
            ("edit_message", {"message_id": mid(BOTLAB, "1"), "text": "z" * 2001}),
            # 1,993 + " @grace" is 2,000 as written, 2,016 once @grace is <@id>.
            ("send_message", {"channel_id": BOTLAB, "text": "w" * 1993 + " @grace"}),
        ]:
            with pytest.raises(ToolError) as refused:
                await call(client, tool, **arguments)
            failures.append(str(refused.value))
        assert not fake.requests
        exactly = await call(client, "send_message", channel_id=BOTLAB, text="v" * 2000)

    # resources/message#create-message: content "up to 2000 characters".
    assert (
        failures[0]
        == "Discord takes at most 2,000 characters per message; this one has 2,001 characters"
    )
    assert all("2,000" in failure for failure in failures)
    assert failures[3].endswith("this one has 2,016 characters")
    assert len(unmark_untrusted(exactly["text"])) == 2000


# ---- search and mentions -------------------------------------------------------------------


async def test_search_covers_every_guild_newest_first_and_pages(dc_workspace, world, discord_fake):
    async with connect(dc_workspace) as client:
        found = await call(client, "search_messages", query="flamegraph")
        pages, cursor = [], None
        for _ in range(10):
            page = await call(client, "search_messages", query="flamegraph", limit=1, cursor=cursor)
            pages.append([m["id"] for m in page["messages"]])
            cursor = page["next_cursor"]
            if cursor is None:
                break
        scoped = await call(client, "search_messages", query="flamegraph", channel_id=ENGINEERING)
        with pytest.raises(ToolError, match="guild channels only"):
            await call(client, "search_messages", query="hi", channel_id=DM_ADA)

    assert [m["channel_name"] for m in found["messages"]] == ["random", "engineering", "general"]
    assert all("flamegraph" in text.lower() for text in texts(found))
    assert found["next_cursor"] is None
    assert [m for page in pages for m in page] == [m["id"] for m in found["messages"]]
    assert [m["channel_id"] for m in scoped["messages"]] == [ENGINEERING]
    requests = discord_fake[0].calls("guild_search")
    assert {r.path_params["guild_id"] for r in requests} == {GUILD_A, GUILD_B}
    assert all(r.arguments["limit"] <= 25 for r in requests)  # Discord's most per request


async def test_get_my_mentions_are_the_bots_and_say_so(dc_workspace, world, discord_fake):
    async with connect(dc_workspace) as client:
        mentions = await call(client, "get_my_mentions")

    assert texts(mentions) == [
        "@Multichat what is the flamegraph tool",
        "flamegraph looks odd @Multichat",
        "Deploy finished @Multichat thanks",
    ]
    assert mentions["notice"].startswith(UNTRUSTED_NOTICE)
    assert MENTIONS_NOTE in mentions["notice"]
    assert {tuple(r.arguments["mentions"]) for r in discord_fake[0].calls("guild_search")} == {
        (BOT,)
    }


async def test_search_waits_while_the_index_is_built_then_gives_up(
    dc_workspace, world, discord_fake, monkeypatch
):
    fake = discord_fake[0]
    monkeypatch.setattr(Adapter, "search_index_min_wait", 0.0)
    fake.on("guild_search", index_not_ready(0), world.guild_search)
    async with connect(dc_workspace) as client:
        found = await call(client, "search_messages", query="flamegraph", channel_id=ENGINEERING)
        assert len(fake.calls("guild_search")) == 2
        fake.requests.clear()
        fake.on("guild_search", index_not_ready(0))
        with pytest.raises(ToolError) as gave_up:
            await call(client, "search_messages", query="flamegraph", channel_id=ENGINEERING)
        tries = len(fake.calls("guild_search"))
        fake.requests.clear()
        monkeypatch.setattr(Adapter, "search_index_max_wait", 0.5)
        fake.on("guild_search", index_not_ready(5))
        with pytest.raises(ToolError, match="still indexing"):
            await call(client, "search_messages", query="flamegraph", channel_id=ENGINEERING)

    assert texts(found) == ["flamegraph attached"]
    message = str(gave_up.value)
    assert f"still indexing guild {GUILD_A}" in message
    assert "(1,200 messages indexed so far)" in message
    assert "\n" not in message
    assert tries == Adapter.search_index_attempts
    assert len(fake.calls("guild_search")) == 1  # waiting 5 s would pass the 0.5 s bound


# ---- users ---------------------------------------------------------------------------------


async def test_list_users_pages_through_every_guild(dc_workspace, world):
    async with connect(dc_workspace) as client:
        everyone = await call(client, "list_users")
        seen, cursor = [], None
        for _ in range(10):
            page = await call(client, "list_users", limit=3, cursor=cursor)
            seen += [user["id"] for user in page["users"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break

    users = {user["id"]: user for user in everyone["users"]}
    assert list(users) == [BOT, ADA, GRACE, LINUS]
    assert users[ADA] == {"id": ADA, "username": "ada", "name": "Countess", "is_bot": False}
    assert users[BOT]["is_bot"] is True
    assert users[LINUS]["name"] == "linus"
    # Guild by guild: people in both guilds come once per guild.
    assert seen == [BOT, ADA, GRACE, LINUS, BOT, ADA]


# ---- catch_up ------------------------------------------------------------------------------


def state_file(workspace: Path) -> Path:
    return workspace / ".multichat" / "state" / PROVIDER / "catch_up.json"


async def test_catch_up_remembers_what_it_reported(dc_workspace, world, discord_fake):
    fake = discord_fake[0]
    async with connect(dc_workspace) as client:
        first = await call(client, "catch_up", per_channel=3)
        stored = json.loads(state_file(dc_workspace).read_text())
        fake.requests.clear()
        second = await call(client, "catch_up", per_channel=3)
        quiet_requests = len(fake.calls("list_messages"))
        world.add(GENERAL, ADA, f"new one <@{BOT}>", 200, mentions=[BOT])
        world.add(GENERAL, GRACE, "new two", 201)
        third = await call(client, "catch_up", per_channel=3)

    counts = {c["channel_name"]: c["unread_count"] for c in first["channels"]}
    assert counts == {
        "general": 3,
        "engineering": 3,
        "leads": 1,
        "bot-lab": 1,
        "random": 3,
        "Postmortem": 3,
        "hiring": 2,
    }  # the forum post the bot has not joined is not its channel
    assert [c["channel_name"] for c in first["channels"]][:2] in (
        ["general", "random"],
        ["random", "general"],
    )  # mentions of the bot first
    assert first["channels_checked"] == 7
    assert "no read marker for bots" in first["note"]
    assert f".multichat/state/{PROVIDER}/catch_up.json" in first["note"]
    markers = stored["last_reported"]
    assert markers[GENERAL] == world.channels[GENERAL].messages[29].id
    assert second["channels"] == []
    assert second["total_unread"] == 0
    assert quiet_requests == 0  # nothing newer than the markers: no channel was read
    [news] = third["channels"]
    assert (news["channel_name"], news["unread_count"], news["mentions_of_me"]) == (
        "general",
        2,
        1,
    )
    assert [unmark_untrusted(m["text"]) for m in news["latest"]] == [
        "new two",
        "new one @Multichat",
    ]


async def test_on_a_team_server_each_person_has_their_own_markers(dc_workspace, world):
    bot_token = {"access_token": TOKEN}
    with serving_team(dc_workspace, PROVIDER, {ALICE: bot_token, BOB: bot_token}) as team:
        async with team.client(ALICE) as alice, team.client(BOB) as bob:
            alice_first = await call(alice, "catch_up", per_channel=3)
            alice_again = await call(alice, "catch_up", per_channel=3)
            bob_first = await call(bob, "catch_up", per_channel=3)

    assert len(alice_first["channels"]) == 7
    assert alice_again["channels"] == []
    assert len(bob_first["channels"]) == 7  # what Alice saw is not read for Bob
    assert "for you alone" in alice_first["note"]
    assert ".multichat" not in alice_first["note"]  # no server path goes to a person
    assert not state_file(dc_workspace).exists()
    for person in (ALICE, BOB):
        kept = user_token_path(dc_workspace, person, PROVIDER).with_name("state") / "catch_up.json"
        assert GENERAL in json.loads(kept.read_text())["last_reported"]


async def test_an_unreadable_state_file_starts_afresh(dc_workspace, world):
    path = state_file(dc_workspace)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{not json")
    async with connect(dc_workspace) as client:
        caught = await call(client, "catch_up", per_channel=1, max_channels=2)

    assert caught["channels_checked"] == 2
    assert [c["channel_name"] for c in caught["channels"]] == ["random", "bot-lab"]
    assert set(json.loads(path.read_text())["last_reported"]) == {RANDOM, BOTLAB}
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]


# ---- failures ------------------------------------------------------------------------------


async def test_429s_are_retried_including_the_global_limit(dc_workspace, world, discord_fake):
    fake = discord_fake[0]
    fake.on("list_messages", fake.rate_limited(0), world.list_messages)
    fake.on("list_my_guilds", global_rate_limited(0), world.list_my_guilds)
    async with connect(dc_workspace) as client:
        history = await call(client, "get_channel_history", channel_id=GENERAL, limit=2)
        channels = await call(client, "list_channels")
        fake.on("get_my_user", fake.rate_limited(0))
        with pytest.raises(ToolError) as failed:
            await call(client, "whoami")

    assert len(history["messages"]) == 2
    assert len(fake.calls("list_messages")) == 2
    assert len(channels["channels"]) == 8
    assert len(fake.calls("list_my_guilds")) == 2
    assert "still failed after 4 attempts (rate limited (HTTP 429))" in str(failed.value)
    assert len(fake.calls("get_my_user")) == 4


async def test_a_revoked_token_names_the_command_that_fixes_it(dc_workspace, world, discord_fake):
    fake = discord_fake[0]
    fake.on("get_my_user", fake.token_rejected())
    fake.on("list_my_guilds", fake.token_rejected())
    async with connect(dc_workspace) as client:
        with pytest.raises(ToolError) as whoami:
            await call(client, "whoami")
        with pytest.raises(ToolError) as listing:
            await call(client, "list_channels")

    for failure in (whoami.value, listing.value):
        message = str(failure)
        assert f"`multichat auth {PROVIDER}`" in message
        assert "401: Unauthorized" in message
        assert "\n" not in message
        assert TOKEN not in message


async def test_malformed_ids_are_refused_in_one_line_without_a_request(
    dc_workspace, world, discord_fake
):
    async with connect(dc_workspace) as client:
        with pytest.raises(ToolError, match="not a Discord message id"):
            await call(client, "get_thread", message_id="334385199974967042")
        with pytest.raises(ToolError, match="not a Discord channel id"):
            await call(client, "get_channel_history", channel_id="general")
        with pytest.raises(ToolError, match="not a cursor"):
            await call(client, "list_users", cursor="../../x")

    assert not discord_fake[0].requests


async def test_read_only_hides_every_writer(dc_workspace, world, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(dc_workspace, copy)
    config = copy / "provider-config.yaml"
    yaml = YAML()
    document = yaml.load(config.read_text(encoding="utf-8"))
    document["providers"][PROVIDER]["read_only"] = True
    with config.open("w", encoding="utf-8") as handle:
        yaml.dump(document, handle)
    async with connect(copy) as client:
        names = {tool.name for tool in await client.list_tools()}
        info = await call(client, "provider_info")
        with pytest.raises(ToolError, match="Unknown tool"):
            await call(client, "send_message", channel_id=BOTLAB, text="hi")

    assert names == {f"{PROVIDER}_{name}" for name in READERS | BASIC}
    assert info["read_only"] is True
