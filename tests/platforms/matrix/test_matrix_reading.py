"""The Matrix preset's readers against the real Synapse and its seeded rooms, in memory.

The seeding (tests/support/synapse_seed.py) is shared and read-only: everything here reads as
alice through provider ``mx``. Expected values come from ``SeededRooms``, not constants.
"""

from __future__ import annotations

import datetime
import re
import shutil
from typing import Any

import pytest
from fastmcp.exceptions import ToolError
from matrix_support import READER, call, event_ids, mcp
from ruamel.yaml import YAML

from multichat.platforms.matrix_events import ENCRYPTED_TEXT
from multichat.runtime import UNTRUSTED_NOTICE
from multichat.runtime.untrusted import unmark_untrusted

pytestmark = pytest.mark.usefixtures("signed_in")

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


def text(item: dict[str, Any]) -> str:
    return unmark_untrusted(item["text"])


async def history(client: Any, room: str, **arguments: Any) -> dict[str, Any]:
    return await call(client, READER, "get_channel_history", channel_id=room, **arguments)


async def all_pages(client: Any, tool: str, key: str, **arguments: Any) -> list[list[Any]]:
    pages: list[list[Any]] = []
    cursor = None
    for _ in range(40):
        page = await call(client, READER, tool, cursor=cursor, **arguments)
        pages.append(page[key])
        cursor = page["next_cursor"]
        if cursor is None:
            return pages
    pytest.fail(f"{tool} never ended")


# ---- who and where ---------------------------------------------------------------------------


async def test_whoami_and_provider_info_describe_alice(matrix_workspace, synapse, synapse_seeded):
    async with mcp(matrix_workspace) as client:
        me = await call(client, READER, "whoami")
        info = await call(client, READER, "provider_info")

    reader = synapse_seeded.reader
    assert me == {
        "id": reader.user_id,
        "username": reader.user_id.removeprefix("@"),
        "name": reader.display_name,
        "is_bot": False,
    }
    assert info["platform"] == "Matrix"
    assert info["authenticated"] is True
    assert info["api_base_url"] == synapse.url
    assert info["unavailable_tools"] == {}


async def test_list_channels_names_every_joined_room_and_pages(matrix_workspace, synapse_seeded):
    seeded = synapse_seeded
    async with mcp(matrix_workspace) as client:
        everything = await call(client, READER, "list_channels", limit=200)
        direct = await call(client, READER, "list_channels", types=["direct"])
        pages = await all_pages(client, "list_channels", "channels", limit=6)

    channels = {channel["id"]: channel for channel in everything["channels"]}
    assert set(channels) == set(seeded.rooms.values())
    assert everything["next_cursor"] is None
    for label, room in seeded.rooms.items():
        channel = channels[room]
        assert channel["is_member"] is True
        assert channel["last_message_at"] is not None
        if label in seeded.topics:
            assert (channel["name"], channel["topic"]) == (label, seeded.topics[label])
            assert channel["kind"] == "private"
    partners = {seeded.peer.user_id: seeded.peer, seeded.third.user_id: seeded.third}
    for user, room in seeded.direct_rooms.items():
        assert (channels[room]["kind"], channels[room]["name"]) == (
            "direct",
            partners[user].display_name,
        )
    assert {c["id"] for c in direct["channels"]} == set(seeded.direct_rooms.values())
    assert [len(page) for page in pages] == [6, 6, 6, 2]
    paged = [channel["id"] for page in pages for channel in page]
    assert paged == [channel["id"] for channel in everything["channels"]]


async def test_list_users_pages_through_the_directory(matrix_workspace, synapse_seeded):
    async with mcp(matrix_workspace) as client:
        everyone = await call(client, READER, "list_users", limit=200)
        pages = await all_pages(client, "list_users", "users", limit=1)

    users = {user["id"]: user for user in everyone["users"]}
    for person in (synapse_seeded.peer, synapse_seeded.third):
        assert users[person.user_id]["name"] == person.display_name
        assert users[person.user_id]["username"] == person.user_id.removeprefix("@")
    paged = [user["id"] for page in pages for user in page]
    assert len(pages) >= 2
    assert paged == list(users)


# ---- history, threads, edits -----------------------------------------------------------------


async def test_history_shows_top_level_messages_newest_first(matrix_workspace, synapse_seeded):
    seeded = synapse_seeded
    replies = {event.event_id for event in seeded.thread_replies}
    async with mcp(matrix_workspace) as client:
        engineering = await history(client, seeded.rooms["engineering"], limit=50)
        design = await history(client, seeded.rooms["design"], limit=50)

    expected = [m for m in reversed(seeded.messages["engineering"]) if m not in replies]
    assert event_ids(engineering) == expected
    assert engineering["next_cursor"] is None
    assert engineering["notice"] == UNTRUSTED_NOTICE
    root = next(m for m in engineering["messages"] if m["id"].endswith(seeded.thread_root.event_id))
    assert root["reply_count"] == len(seeded.thread_replies)
    assert root["reactions"] == {"thumbsup": 1, "tada": 1}
    assert root["author"] == seeded.reader.display_name
    assert root["channel_name"] == "engineering"

    # The redacted message is gone; the edited one reads as edited.
    assert seeded.redacted.event_id not in event_ids(design)
    assert event_ids(design) == [
        m for m in reversed(seeded.messages["design"]) if m != seeded.redacted.event_id
    ]
    by_event = dict(zip(event_ids(design), design["messages"], strict=True))
    edited = by_event[seeded.edited.event_id]
    assert (edited["edited"], text(edited)) == (True, "Design review on Wednesday")


async def test_history_reads_html_as_markdown(matrix_workspace, synapse_seeded):
    seeded = synapse_seeded
    async with mcp(matrix_workspace) as client:
        design = await history(client, seeded.rooms["design"], limit=50)
        general = await history(client, seeded.rooms["general"], limit=50)

    formatted = dict(zip(event_ids(design), design["messages"], strict=True))[
        seeded.formatted.event_id
    ]
    assert text(formatted) == (
        "Style guide v2: **bold** headings, *italic* captions, `code` in mono\n\n"
        "- colours\n- spacing"
    )
    mention = dict(zip(event_ids(general), general["messages"], strict=True))[
        seeded.mention.event_id
    ]
    # The user pill reads as @Name.
    assert text(mention) == f"@{seeded.reader.display_name}: could you review the pelican rollout?"
    assert mention["author"] == seeded.peer.display_name


async def test_history_pages_without_repeats_and_keeps_to_a_time_window(
    matrix_workspace, synapse_seeded
):
    room = synapse_seeded.rooms["design"]
    async with mcp(matrix_workspace) as client:
        everything = (await history(client, room, limit=200))["messages"]
        pages = await all_pages(client, "get_channel_history", "messages", channel_id=room, limit=2)
        oldest, latest = everything[-1]["sent_at"], everything[1]["sent_at"]
        window = await history(client, room, oldest=oldest, latest=latest)
        window_pages = await all_pages(
            client,
            "get_channel_history",
            "messages",
            channel_id=room,
            oldest=oldest,
            latest=latest,
            limit=2,
        )
        just_after = datetime.datetime.fromisoformat(latest) + datetime.timedelta(milliseconds=1)
        later = await history(client, room, oldest=oldest, latest=just_after.isoformat())

    assert len(everything) >= 5
    assert [m["id"] for page in pages for m in page] == [m["id"] for m in everything]
    assert all(len(page) <= 2 for page in pages)
    expected = [m["id"] for m in everything if oldest < m["sent_at"] < latest]
    assert len(expected) >= 2
    assert [m["id"] for m in window["messages"]] == expected
    assert [m["id"] for page in window_pages for m in page] == expected
    # A millisecond later, the message at ``latest`` is inside the window.
    assert [m["id"] for m in later["messages"]] == [everything[1]["id"], *expected]


async def test_get_thread_gives_the_root_and_its_replies(matrix_workspace, synapse_seeded):
    seeded = synapse_seeded
    root_id = f"{seeded.thread_root.room_id}/{seeded.thread_root.event_id}"
    async with mcp(matrix_workspace) as client:
        thread = await call(client, READER, "get_thread", message_id=root_id)
        first = await call(client, READER, "get_thread", message_id=root_id, limit=1)
        second = await call(
            client, READER, "get_thread", message_id=root_id, limit=1, cursor=first["next_cursor"]
        )
        reply = thread["replies"][0]["id"]
        with pytest.raises(ToolError, match=re.escape(f"{reply} is a reply in thread {root_id}")):
            await call(client, READER, "get_thread", message_id=reply)
        with pytest.raises(ToolError, match="not a Matrix message id"):
            await call(client, READER, "get_thread", message_id="M322")

    assert thread["root"]["id"] == root_id
    assert thread["root"]["reactions"] == {"thumbsup": 1, "tada": 1}
    assert [m["id"].partition("/")[2] for m in thread["replies"]] == [
        event.event_id for event in seeded.thread_replies
    ]
    assert all(m["thread_id"] == root_id for m in thread["replies"])
    assert [m["id"] for m in first["replies"] + second["replies"]] == [
        m["id"] for m in thread["replies"]
    ]


async def test_the_encrypted_room_reads_as_not_readable(matrix_workspace, synapse_seeded):
    seeded = synapse_seeded
    async with mcp(matrix_workspace) as client:
        page = await history(client, seeded.rooms[seeded.encrypted_room])

    [encrypted] = [m for m in page["messages"] if m["id"].endswith(seeded.encrypted.event_id)]
    assert text(encrypted) == ENCRYPTED_TEXT
    assert "encrypted, not readable by this provider" in encrypted["text"]
    assert encrypted["author_id"] == seeded.peer.user_id


# ---- search, mentions, catch-up --------------------------------------------------------------


async def test_search_finds_the_seeded_word_and_pages(matrix_workspace, synapse_seeded):
    seeded = synapse_seeded
    async with mcp(matrix_workspace) as client:
        found = await call(client, READER, "search_messages", query=seeded.search_word)
        in_room = await call(
            client,
            READER,
            "search_messages",
            query=seeded.search_word,
            channel_id=seeded.rooms["engineering"],
        )
        pages = await all_pages(
            client, "search_messages", "messages", query=seeded.search_word, limit=1
        )

    expected = {seeded.thread_root.event_id, seeded.mention.event_id}
    assert set(event_ids(found)) == expected
    assert all(seeded.search_word in text(m) for m in found["messages"])
    assert event_ids(in_room) == [seeded.thread_root.event_id]
    assert in_room["messages"][0]["channel_name"] == "engineering"
    assert [len(page) for page in pages if page] == [1, 1]
    assert {m["id"] for page in pages for m in page} == {m["id"] for m in found["messages"]}


async def test_get_my_mentions_lists_the_highlight(matrix_workspace, synapse_seeded):
    seeded = synapse_seeded
    async with mcp(matrix_workspace) as client:
        mentions = await call(client, READER, "get_my_mentions")

    assert event_ids(mentions) == [seeded.mention.event_id]
    [mention] = mentions["messages"]
    assert (mention["channel_name"], mention["author"]) == ("general", seeded.peer.display_name)
    assert mentions["next_cursor"] is None


async def test_catch_up_lists_the_unread_rooms_mentions_first(matrix_workspace, synapse_seeded):
    seeded = synapse_seeded
    async with mcp(matrix_workspace) as client:
        news = await call(client, READER, "catch_up", per_channel=3)
        few = await call(client, READER, "catch_up", max_channels=2)

    assert news["channels_checked"] == len(seeded.rooms)
    unread = {seeded.rooms[label] for label in seeded.unread_rooms}
    assert {channel["channel_id"] for channel in news["channels"]} == unread
    assert news["total_unread"] == sum(c["unread_count"] for c in news["channels"])
    first = news["channels"][0]
    assert (first["channel_name"], first["mentions_of_me"]) == ("general", 1)
    assert seeded.mention.event_id in [m["id"].partition("/")[2] for m in first["latest"]]
    order = [(-c["mentions_of_me"], -c["unread_count"]) for c in news["channels"]]
    assert order == sorted(order)
    for channel in news["channels"]:
        latest = channel["latest"]
        assert 1 <= len(latest) <= min(3, channel["unread_count"])
        assert [m["sent_at"] for m in latest] == sorted(
            (m["sent_at"] for m in latest), reverse=True
        )
        assert all(m["author_id"] != seeded.reader.user_id for m in latest)
    assert few["channels_checked"] == 2


# ---- configuration ---------------------------------------------------------------------------


async def test_read_only_hides_every_writer(matrix_workspace, tmp_path, synapse_seeded):
    workspace = tmp_path / "ws"
    shutil.copytree(matrix_workspace, workspace)
    path = workspace / "provider-config.yaml"
    yaml = YAML()
    document = yaml.load(path.read_text())
    document["providers"][READER]["read_only"] = True
    with path.open("w") as handle:
        yaml.dump(document, handle)

    async with mcp(workspace) as client:
        names = {tool.name for tool in await client.list_tools()}
        channels = await call(client, READER, "list_channels")

    served = {name.removeprefix(f"{READER}_") for name in names if name.startswith(f"{READER}_")}
    assert served == READERS | {"provider_info", "whoami"}
    assert not served & (WRITERS | {"mark_read"})
    assert len(channels["channels"]) == len(synapse_seeded.rooms)
