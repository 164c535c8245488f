"""Slack's conventions in isolation: token kinds, message ids, times, error lines, the name cache,
and the canned objects the fake serves, checked strictly against Slack's own definitions."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from slack_world import CHANNELS, SEARCH_ANSWER_SCHEMA, USERS, SlackWorld, seed_messages
from support.fake_platform import RecordedRequest
from support.platform_specs import load_spec

from multichat.errors import NotAuthenticated, UserError
from multichat.platforms.slack_names import chat_user
from multichat.platforms.slack_web import (
    SlackError,
    check_channel_id,
    failure,
    kind_of_token,
    message_id,
    parse_message_id,
    to_ts,
    ts_time,
)

SPEC_URI = "urn:multichat-spec:slack#/definitions/"


@pytest.mark.parametrize(
    ("token", "kind"),
    [
        ("xoxp-1234-5678-abcd", "user"),
        ("xoxb-1234-5678-abcd", "bot"),
        ("xoxe.xoxp-1-rotating", "user"),
        ("xoxe.xoxb-1-rotating", "bot"),
        ("xoxc-browser-session", "unknown"),
        ("", "unknown"),
    ],
)
def test_the_token_kind_comes_from_its_prefix(token, kind):
    assert kind_of_token(token) == kind


def test_message_ids_carry_channel_and_ts_both_ways():
    made = message_id("C012AB3CD", "1512085950.000216")

    assert made == "C012AB3CD:1512085950.000216"
    assert parse_message_id(made) == ("C012AB3CD", "1512085950.000216")
    assert parse_message_id(" D0GRACE001:1750000000.000001 ") == ("D0GRACE001", "1750000000.000001")


@pytest.mark.parametrize(
    "bad", ["", "C012AB3CD", "1512085950.000216", "c012:1.2", "C0/1:1.2", "C0:1.2.3"]
)
def test_malformed_message_ids_are_one_line_user_errors(bad):
    with pytest.raises(UserError) as refused:
        parse_message_id(bad)

    assert "is not a Slack message id" in str(refused.value)
    assert "C012AB3CD:1512085950.000216" in str(refused.value)


def test_channel_ids_are_checked():
    assert check_channel_id(" G0LEADS001 ") == "G0LEADS001"
    with pytest.raises(UserError, match="is not a Slack channel id"):
        check_channel_id("#general")


def test_times_are_exact_to_the_microsecond_both_ways():
    when = datetime.datetime(2025, 6, 15, 15, 7, 40, 1, tzinfo=datetime.UTC)

    assert to_ts(when) == "1750000060.000001"
    assert ts_time("1750000060.000001") == "2025-06-15T15:07:40.000001Z"
    assert ts_time("1750000060") == "2025-06-15T15:07:40Z"
    assert to_ts(datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)) == "0.000000"


def test_failures_are_one_line_each():
    scope = failure(
        "work", "chat.postMessage", {"ok": False, "error": "missing_scope", "needed": "chat:write"}
    )
    auth = failure("work", "auth.test", {"ok": False, "error": "account_inactive"})
    unknown = failure(
        "work",
        "chat.postMessage",
        {
            "ok": False,
            "error": "invalid_arguments",
            "response_metadata": {"messages": ["[ERROR] missing required field: channel"]},
        },
    )
    strange = failure("work", "users.list", ["not", "an", "object"])

    assert isinstance(scope, SlackError)
    assert scope.code == "missing_scope"
    assert "lacks the `chat:write` scope (it has: none)" in str(scope)
    assert isinstance(auth, NotAuthenticated)
    assert str(auth) == (
        "work is not authenticated (Slack refused the token: account_inactive): "
        "run `multichat auth work`"
    )
    assert str(unknown) == (
        "work: Slack refused chat.postMessage: invalid_arguments "
        "([ERROR] missing required field: channel)"
    )
    assert "answered without a JSON object" in str(strange)
    for error in (scope, auth, unknown, strange):
        assert "\n" not in str(error)


def test_a_person_is_named_as_slack_shows_them():
    bot = next(u for u in USERS if u["is_bot"])

    assert chat_user(USERS[0]).name == "Ada Lovelace"
    assert chat_user(bot).name == "Deploy Bot"  # no display name: the real name
    assert chat_user({"id": "U0X0000001", "name": "x"}).name == "x"


# ---- the canned objects, strictly ---------------------------------------------------------------
# The fake checks whole answers, but objs_conversation and objs_user put their variants under
# `items` (a list) without a `type`, which JSON Schema applies to arrays only: an object passes
# them unchecked. Each canned object is checked here against the variants themselves.


def variants(name: str, count: int) -> dict[str, Any]:
    return {"anyOf": [{"$ref": f"{SPEC_URI}{name}/items/{i}"} for i in range(count)]}


def assert_valid(schema: dict[str, Any], value: Any) -> None:
    validator = load_spec("slack").validator(schema)
    errors = [error.message for error in validator.iter_errors(value)]
    assert errors == [], value


@pytest.mark.parametrize("channel", CHANNELS, ids=lambda c: c["id"])
def test_canned_conversations_match_a_conversation_variant(channel):
    assert_valid(variants("objs_conversation", 3), channel)


@pytest.mark.parametrize("user", USERS, ids=lambda u: u["id"])
def test_canned_users_match_a_user_variant(user):
    assert_valid(variants("objs_user", 2), user)


def test_canned_messages_match_the_message_object():
    for messages in seed_messages().values():
        for item in messages:
            assert_valid({"$ref": f"{SPEC_URI}objs_message"}, item)


def test_the_canned_search_answer_matches_slacks_documented_example():
    request = RecordedRequest(
        "GET", "/api/search.messages", {}, b"", "search_messages", {}, {"query": "flamegraph"}
    )
    answer = SlackWorld().search_messages(request)

    assert_valid(SEARCH_ANSWER_SCHEMA, answer)
    assert answer["messages"]["total"] == 2


def test_the_strict_check_can_fail():
    broken = {**CHANNELS[0], "id": "general"}  # not a channel id
    with pytest.raises(AssertionError):
        assert_valid(variants("objs_conversation", 3), broken)
