"""The Matrix preset's writers against the real Synapse, as a user with rooms of its own.

Provider ``mxw`` signs in as the writer of ``writer_rooms`` (conftest): nothing here touches the
shared seeded rooms. Raw events are read back with Synapse's own API to check what was sent
(https://spec.matrix.org/latest/client-server-api/#get_matrixclientv3roomsroomideventeventid).
"""

from __future__ import annotations

import base64
import os
import re
import uuid
from typing import Any
from urllib.parse import quote

import pytest
from fastmcp.exceptions import ToolError
from matrix_support import V3, WRITER, ProxyTransport, bare_adapter, call, event_ids, mcp

from multichat.chat.markup import to_html
from multichat.chat.markup.limits import MessageTooLong
from multichat.runtime.untrusted import unmark_untrusted

pytestmark = pytest.mark.usefixtures("signed_in")


def raw_event(synapse: Any, token: str, message_id: str) -> dict[str, Any]:
    room, _, event = message_id.partition("/")
    with synapse.client(token) as http:
        answer = http.get(f"{V3}/rooms/{quote(room)}/event/{quote(event)}")
    assert answer.status_code == 200, answer.text
    return answer.json()


def post_as(synapse: Any, user: Any, room: str, content: dict[str, Any], kind: str) -> str:
    path = f"{V3}/rooms/{quote(room)}/send/{kind}/{uuid.uuid4().hex}"
    with synapse.client(user.access_token) as http:
        answer = http.put(path, json=content)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["event_id"])


def text(item: dict[str, Any]) -> str:
    return unmark_untrusted(item["text"])


async def test_send_reply_edit_react_and_delete_round_trip(matrix_workspace, writer_rooms, synapse):
    room = writer_rooms.scratch
    async with mcp(matrix_workspace) as client:
        sent = await call(client, WRITER, "send_message", channel_id=room, text="Round trip")
        newest = await call(client, WRITER, "get_channel_history", channel_id=room, limit=1)
        reply = await call(client, WRITER, "reply_to_thread", message_id=sent["id"], text="one")
        # Replying to a reply joins the root's thread.
        second = await call(client, WRITER, "reply_to_thread", message_id=reply["id"], text="two")
        thread = await call(client, WRITER, "get_thread", message_id=sent["id"])
        edited = await call(client, WRITER, "edit_message", message_id=sent["id"], text="Edited")
        reacted = await call(client, WRITER, "add_reaction", message_id=sent["id"], emoji="eyes")
        again = await call(client, WRITER, "add_reaction", message_id=sent["id"], emoji="eyes")
        deleted = await call(client, WRITER, "delete_message", message_id=sent["id"])
        after = await call(client, WRITER, "get_channel_history", channel_id=room, limit=5)

    writer = writer_rooms.writer
    assert (sent["channel_id"], sent["channel_name"]) == (room, "scratch")
    assert (sent["author_id"], sent["author"]) == (writer.user_id, writer.display_name)
    assert text(sent) == "Round trip"
    assert [m["id"] for m in newest["messages"]] == [sent["id"]]
    assert reply["thread_id"] == second["thread_id"] == sent["id"]
    assert [m["id"] for m in thread["replies"]] == [reply["id"], second["id"]]
    assert thread["root"]["reply_count"] == 2
    assert (edited["id"], edited["edited"], text(edited)) == (sent["id"], True, "Edited")
    assert reacted["reactions"] == again["reactions"] == {"eyes": 1}
    assert deleted == {"message_id": sent["id"], "deleted": True}
    assert sent["id"] not in [m["id"] for m in after["messages"]]
    raw = raw_event(synapse, writer_rooms.token, reply["id"])
    relates = raw["content"]["m.relates_to"]
    assert (relates["rel_type"], relates["event_id"]) == ("m.thread", sent["id"].partition("/")[2])


async def test_markdown_goes_out_as_html_and_comes_back_as_markdown(
    matrix_workspace, writer_rooms, synapse
):
    markdown = "**Deploy** is _done_, see [the log](https://example.org/log)\n\n- one\n- `two`"
    friend = writer_rooms.friend.user_id
    async with mcp(matrix_workspace) as client:
        rich = await call(
            client, WRITER, "send_message", channel_id=writer_rooms.scratch, text=markdown
        )
        plain = await call(
            client, WRITER, "send_message", channel_id=writer_rooms.scratch, text=f"ping {friend}"
        )
        page = await call(
            client, WRITER, "get_channel_history", channel_id=writer_rooms.scratch, limit=2
        )

    raw = raw_event(synapse, writer_rooms.token, rich["id"])["content"]
    assert raw["body"] == markdown
    assert raw["format"] == "org.matrix.custom.html"
    assert raw["formatted_body"] == to_html(markdown)
    assert "<strong>Deploy</strong>" in raw["formatted_body"]
    expected = "**Deploy** is *done*, see [the log](https://example.org/log)\n\n- one\n- `two`"
    assert text(rich) == expected
    assert [text(m) for m in page["messages"]] == [f"ping {friend}", expected]
    raw_plain = raw_event(synapse, writer_rooms.token, plain["id"])["content"]
    assert "formatted_body" not in raw_plain
    assert raw_plain["m.mentions"] == {"user_ids": [friend]}


async def test_a_message_over_the_limit_is_refused_before_any_request(
    matrix_workspace, writer_rooms, monkeypatch, synapse
):
    proxy = ProxyTransport()
    adapter = bare_adapter(monkeypatch, WRITER, synapse.url, writer_rooms.token, transport=proxy)
    huge = "é" * 40_000  # 80,000 bytes of UTF-8, under the tools' 100,000 characters

    with pytest.raises(MessageTooLong, match=r"Matrix takes at most 65,536 bytes per message"):
        await adapter.send(writer_rooms.scratch, huge)
    with pytest.raises(MessageTooLong):
        await adapter.edit(f"{writer_rooms.scratch}/$anything", huge)
    assert proxy.requests == []
    large = await adapter.send(writer_rooms.scratch, "a" * 60_000)
    assert len(text(large.model_dump())) == 60_000

    async with mcp(matrix_workspace) as client:
        with pytest.raises(ToolError) as refused:
            await call(client, WRITER, "send_message", channel_id=writer_rooms.scratch, text=huge)
    size = re.search(r"this one has ([\d,]+) bytes$", str(refused.value))
    assert size is not None
    assert int(size.group(1).replace(",", "")) > 80_000
    assert "\n" not in str(refused.value)


async def test_writing_into_an_encrypted_room_is_refused(matrix_workspace, writer_rooms, synapse):
    vault = writer_rooms.vault
    sender_key, ciphertext = (base64.b64encode(os.urandom(n)).decode() for n in (32, 64))
    encrypted = post_as(
        synapse,
        writer_rooms.friend,
        vault,
        {
            "algorithm": "m.megolm.v1.aes-sha2",
            "sender_key": sender_key,
            "ciphertext": ciphertext,
            "session_id": "s",
            "device_id": writer_rooms.friend.device_id,
        },
        "m.room.encrypted",
    )
    message_id = f"{vault}/{encrypted}"
    async with mcp(matrix_workspace) as client:
        before = await call(client, WRITER, "get_channel_history", channel_id=vault)
        refusals = []
        for tool, arguments in (
            ("send_message", {"channel_id": vault, "text": "psst"}),
            ("reply_to_thread", {"message_id": message_id, "text": "psst"}),
            ("add_reaction", {"message_id": message_id, "emoji": "eyes"}),
        ):
            with pytest.raises(ToolError) as refused:
                await call(client, WRITER, tool, **arguments)
            refusals.append(str(refused.value))
        after = await call(client, WRITER, "get_channel_history", channel_id=vault)

    for refusal in refusals:
        assert "vault is end-to-end encrypted and this provider cannot encrypt" in refusal
        assert "nothing was sent" in refusal
        assert "\n" not in refusal
    assert event_ids(before) == event_ids(after) == [encrypted]
    assert "encrypted, not readable by this provider" in after["messages"][0]["text"]


async def test_other_peoples_messages_cannot_be_edited_or_deleted(
    matrix_workspace, writer_rooms, synapse
):
    room = writer_rooms.scratch
    theirs = post_as(
        synapse,
        writer_rooms.friend,
        room,
        {"msgtype": "m.text", "body": "mine"},
        "m.room.message",
    )
    message_id = f"{room}/{theirs}"
    async with mcp(matrix_workspace) as client:
        with pytest.raises(ToolError, match="you can only edit your own messages"):
            await call(client, WRITER, "edit_message", message_id=message_id, text="hijacked")
        with pytest.raises(ToolError, match="you can only delete your own messages"):
            await call(client, WRITER, "delete_message", message_id=message_id)
        with pytest.raises(ToolError, match="not a Matrix room id"):
            await call(client, WRITER, "send_message", channel_id="C01", text="hello")
        with pytest.raises(ToolError, match="no emoji is called 'notanemoji'"):
            await call(client, WRITER, "add_reaction", message_id=message_id, emoji="notanemoji")

    raw = raw_event(synapse, writer_rooms.token, message_id)
    assert raw["content"]["body"] == "mine"
    assert "m.relations" not in raw.get("unsigned", {})


async def test_mark_read_clears_a_room_from_catch_up(matrix_workspace, writer_rooms, synapse):
    room = writer_rooms.quiet
    for body in ("Are you there?", f"{writer_rooms.writer.display_name}, the report please"):
        post_as(
            synapse,
            writer_rooms.friend,
            room,
            {"msgtype": "m.text", "body": body},
            "m.room.message",
        )
    async with mcp(matrix_workspace) as client:
        before = await call(client, WRITER, "catch_up")
        marked = await call(client, WRITER, "mark_read", channel_id=room)
        after = await call(client, WRITER, "catch_up")

    [quiet] = [channel for channel in before["channels"] if channel["channel_id"] == room]
    assert (quiet["channel_name"], quiet["unread_count"]) == ("quiet", 2)
    assert text(quiet["latest"][0]).endswith("the report please")
    assert quiet["mentions_of_me"] == 1
    assert marked == {"channel_id": room, "marked_read": True}
    assert room not in [channel["channel_id"] for channel in after["channels"]]


# ---- retries ---------------------------------------------------------------------------------


async def test_a_send_whose_answer_was_lost_is_retried_without_posting_twice(
    writer_rooms, monkeypatch, synapse
):
    def lose_the_first_send(method: str, path: str, attempt: int) -> Any:
        sends = [r for r in proxy.requests if r[0] == "PUT" and "/send/" in r[1]]
        if method == "PUT" and "/send/" in path and len(sends) == 1:
            return ("after", 502, {})
        return None

    proxy = ProxyTransport(lose_the_first_send)
    adapter = bare_adapter(monkeypatch, WRITER, synapse.url, writer_rooms.token, transport=proxy)
    body = f"exactly once {uuid.uuid4().hex}"

    sent = await adapter.send(writer_rooms.scratch, body)
    page = await adapter.channel_history(writer_rooms.scratch, 10, None, None, None)

    puts = [path for method, path in proxy.requests if method == "PUT"]
    assert len(puts) == 2
    assert puts[0] == puts[1]  # the same transaction id both times
    matching = [m for m in page.messages if text(m.model_dump()) == body]
    assert [m.id for m in matching] == [sent.id]


async def test_429s_are_waited_out_as_retry_after_says(writer_rooms, monkeypatch, synapse):
    def rate_limit_twice(method: str, path: str, attempt: int) -> Any:
        return ("instead", 429, {"Retry-After": "0"}) if attempt <= 2 else None

    proxy = ProxyTransport(rate_limit_twice)
    adapter = bare_adapter(monkeypatch, WRITER, synapse.url, writer_rooms.token, transport=proxy)

    me = await adapter.whoami()

    assert me.id == writer_rooms.writer.user_id
    whoami = [path for _, path in proxy.requests if path.endswith("/account/whoami")]
    assert len(whoami) == 3
