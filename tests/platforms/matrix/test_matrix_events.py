"""Reading and writing Matrix events without a server: ids, text and mentions.

Event shapes from https://spec.matrix.org/latest/client-server-api/ (m.room.message msgtypes,
rich-reply fallbacks, event replacements, user and room mentions).
"""

from __future__ import annotations

import pytest

from multichat.errors import UserError
from multichat.platforms.matrix_events import (
    ENCRYPTED_TEXT,
    is_message,
    mentions_user,
    message_content,
    message_text,
    room_id,
    split_message_id,
    to_message_id,
)

ROOM = "!abc:example.org"


def event(content: dict, **fields: object) -> dict:
    return {
        "type": "m.room.message",
        "event_id": "$e",
        "sender": "@bob:x",
        **fields,
        "content": content,
    }


def test_message_ids_carry_the_room_and_the_event():
    assert split_message_id(to_message_id(ROOM, "$xyz_-1")) == (ROOM, "$xyz_-1")
    assert room_id(ROOM) == ROOM


@pytest.mark.parametrize("bad", ["M322", "!room:x", "!room:x/xyz", "$e", "!a b:x/$e", "!a:x/$e/.."])
def test_anything_else_is_refused_as_a_message_id(bad):
    with pytest.raises(UserError, match="not a Matrix message id"):
        split_message_id(bad)


@pytest.mark.parametrize("bad", ["C01", "#general:x", "!a/b:x", "! a:x", "!" + "a" * 300])
def test_anything_else_is_refused_as_a_room_id(bad):
    with pytest.raises(UserError, match="not a Matrix room id"):
        room_id(bad)


def test_text_prefers_html_and_never_comes_out_empty():
    html = event(
        {
            "msgtype": "m.text",
            "body": "*x*",
            "format": "org.matrix.custom.html",
            "formatted_body": "<em>x</em>",
        }
    )
    encrypted = {"type": "m.room.encrypted", "content": {"algorithm": "m.megolm.v1.aes-sha2"}}

    assert message_text(html) == "*x*"
    assert message_text(encrypted) == ENCRYPTED_TEXT
    assert message_text(event({"msgtype": "m.text", "body": "  "})) == "(empty message)"
    assert message_text(event({"msgtype": "m.image", "body": "cat.png"})) == "[image: cat.png]"
    assert message_text(event({"msgtype": "m.emote", "body": "waves"})) == "* waves"


def test_a_plain_reply_loses_its_quoted_fallback():
    reply = event(
        {
            "msgtype": "m.text",
            "body": "> <@ada:x> the original\n> second line\n\nmy answer",
            "m.relates_to": {"m.in_reply_to": {"event_id": "$o"}},
        }
    )

    assert message_text(reply) == "my answer"


def test_an_edit_shows_its_new_content_only_from_the_same_sender():
    edit = {"sender": "@bob:x", "content": {"m.new_content": {"msgtype": "m.text", "body": "new"}}}
    edited = event(
        {"msgtype": "m.text", "body": "old"}, unsigned={"m.relations": {"m.replace": edit}}
    )
    forged = event(
        {"msgtype": "m.text", "body": "old"},
        unsigned={"m.relations": {"m.replace": {**edit, "sender": "@eve:x"}}},
    )

    assert message_text(edited) == "new"
    assert message_text(forged) == "old"
    assert not is_message(event({"body": "* new", "m.relates_to": {"rel_type": "m.replace"}}))
    assert not is_message(event({}))  # redacted


def test_mentions_follow_m_mentions_when_present():
    explicit = event({"body": "hi Ada", "m.mentions": {"user_ids": ["@ada:x"]}})
    not_me = event({"body": "hi Ada Lovelace", "m.mentions": {}})
    legacy = event({"body": "Ada Lovelace: look"})
    pill = event({"body": "x", "formatted_body": '<a href="https://matrix.to/#/@ada:x">A</a>'})

    assert mentions_user(explicit, "@ada:x", "Ada Lovelace")
    assert not mentions_user(not_me, "@ada:x", "Ada Lovelace")
    assert mentions_user(legacy, "@ada:x", "Ada Lovelace")
    assert mentions_user(pill, "@ada:x", "Ada Lovelace")


def test_content_is_plain_without_formatting_and_lists_mentioned_users():
    plain = message_content("two\nlines for @bob:example.org and @carol:example.org:8448")
    rich = message_content("**bold**")

    assert "formatted_body" not in plain
    assert plain["m.mentions"] == {"user_ids": ["@bob:example.org", "@carol:example.org:8448"]}
    assert rich["formatted_body"] == "<p><strong>bold</strong></p>"
    assert rich["format"] == "org.matrix.custom.html"
    assert message_content("mail me at me@example.org")["m.mentions"] == {}
