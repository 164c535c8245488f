"""Requests are checked against the platform descriptions in tests/support/specs.

For each of Slack, Discord, Mattermost and Google Chat: the operations the presets will call pass
when used as the platform documents them, and each kind of mistake fails with its own Kind.
Canned ids and credentials come from support.canned, which cites their sources.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from support.canned import (
    DISCORD_BOT,
    DISCORD_CHANNEL,
    DISCORD_GUILD,
    DISCORD_MESSAGE,
    DISCORD_OAUTH,
    FORM_TYPE,
    GOOGLE,
    JSON_TYPE,
    MATTERMOST,
    MM_CHANNEL,
    MM_POST,
    MM_TEAM,
    SLACK,
    SLACK_CHANNEL,
    SLACK_TS,
)
from support.platform_specs import PLATFORMS, Kind, SpecViolation, load_spec


@dataclass(frozen=True)
class Call:
    method: str
    url: str
    query: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None

    def check(self, platform: str) -> str:
        return load_spec(platform).check_request(
            self.method, self.url, self.query, self.headers, self.body
        )


VALID_REQUESTS = {
    "slack conversations.history, GET with query": (
        "slack",
        Call(
            "GET",
            "/api/conversations.history",
            {"channel": SLACK_CHANNEL, "limit": 100, "cursor": "dXNlcjpVMDYxTkZUVDI="},
            SLACK,
        ),
        "conversations_history",
    ),
    "slack conversations.history, POSTed as a form (any method may be POSTed)": (
        "slack",
        Call(
            "POST",
            "https://slack.com/api/conversations.history",
            headers={**SLACK, **FORM_TYPE},
            body=f"channel={SLACK_CHANNEL}&inclusive=1&oldest=1512085950.000216".encode(),
        ),
        "conversations_history",
    ),
    "slack chat.postMessage, JSON with blocks": (
        "slack",
        Call(
            "POST",
            "/api/chat.postMessage",
            headers={**SLACK, **JSON_TYPE},
            body={
                "channel": SLACK_CHANNEL,
                "text": "Hello *world*",
                "thread_ts": SLACK_TS,
                "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Hello"}}],
                "unfurl_links": False,
            },
        ),
        "chat_postMessage",
    ),
    "slack chat.postMessage, form with the token as a field": (
        "slack",
        Call(
            "POST",
            "/api/chat.postMessage",
            headers=FORM_TYPE,
            body=f"token=xoxb-1-test&channel={SLACK_CHANNEL}&text=hi".encode(),
        ),
        "chat_postMessage",
    ),
    "slack search.messages": (
        "slack",
        Call(
            "GET",
            "https://slack.com/api/search.messages?query=pickleball&count=20&sort=timestamp",
            headers=SLACK,
        ),
        "search_messages",
    ),
    "slack auth.test": ("slack", Call("POST", "/api/auth.test", headers=SLACK), "auth_test"),
    "discord list messages": (
        "discord",
        Call(
            "GET",
            f"/api/v10/channels/{DISCORD_CHANNEL}/messages",
            {"limit": 50, "before": DISCORD_MESSAGE},
            DISCORD_BOT,
        ),
        "list_messages",
    ),
    "discord create message, a reply": (
        "discord",
        Call(
            "POST",
            f"https://discord.com/api/v10/channels/{DISCORD_CHANNEL}/messages",
            headers={**DISCORD_BOT, **JSON_TYPE},
            body={
                "content": "Hello",
                "message_reference": {"message_id": DISCORD_MESSAGE},
                "allowed_mentions": {"parse": []},
            },
        ),
        "create_message",
    ),
    "discord users/@me with a bot token": (
        "discord",
        Call("GET", "/api/v10/users/@me", headers=DISCORD_BOT),
        "get_my_user",
    ),
    "discord users/@me with an OAuth2 token": (
        "discord",
        Call("GET", "/api/v10/users/@me", headers=DISCORD_OAUTH),
        "get_my_user",
    ),
    "discord guild search, a list parameter repeated": (
        "discord",
        Call(
            "GET",
            f"/api/v10/guilds/{DISCORD_GUILD}/messages/search",
            {"content": "lunch", "author_id": ["53908232506183680", "80351110224678912"]},
            DISCORD_BOT,
        ),
        "guild_search",
    ),
    "mattermost users/me ('me' stands for the user id, introduction.yaml tag 'schema')": (
        "mattermost",
        Call("GET", "/api/v4/users/me", headers=MATTERMOST),
        "GetUser",
    ),
    "mattermost channel posts": (
        "mattermost",
        Call(
            "GET",
            f"/api/v4/channels/{MM_CHANNEL}/posts",
            {"page": 0, "per_page": 60, "include_deleted": False},
            MATTERMOST,
        ),
        "GetPostsForChannel",
    ),
    "mattermost create post, a reply": (
        "mattermost",
        Call(
            "POST",
            "/api/v4/posts",
            headers={**MATTERMOST, **JSON_TYPE},
            body={"channel_id": MM_CHANNEL, "message": "Hello", "root_id": MM_POST},
        ),
        "CreatePost",
    ),
    "mattermost search posts": (
        "mattermost",
        Call(
            "POST",
            f"/api/v4/teams/{MM_TEAM}/posts/search",
            headers={**MATTERMOST, **JSON_TYPE},
            body={"terms": "from:ada lunch", "is_or_search": False, "per_page": 20},
        ),
        "SearchPosts",
    ),
    "google chat spaces.list with a filter": (
        "google_chat",
        Call("GET", "/v1/spaces", {"pageSize": 100, "filter": 'spaceType = "SPACE"'}, GOOGLE),
        "chat.spaces.list",
    ),
    "google chat spaces.messages.list": (
        "google_chat",
        Call(
            "GET",
            "https://chat.googleapis.com/v1/spaces/AAAAMpdlehY/messages",
            {"pageSize": 50, "orderBy": "createTime desc", "showDeleted": "false"},
            GOOGLE,
        ),
        "chat.spaces.messages.list",
    ),
    "google chat spaces.messages.create in a thread": (
        "google_chat",
        Call(
            "POST",
            "/v1/spaces/AAAAMpdlehY/messages",
            {"messageReplyOption": "REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD", "alt": "json"},
            {**GOOGLE, **JSON_TYPE},
            {"text": "Hello", "thread": {"name": "spaces/AAAAMpdlehY/threads/MZ8fXhZXGkk"}},
        ),
        "chat.spaces.messages.create",
    ),
    "google chat users.spaces.getSpaceReadState": (
        "google_chat",
        Call("GET", "/v1/users/me/spaces/AAAAMpdlehY/spaceReadState", headers=GOOGLE),
        "chat.users.spaces.getSpaceReadState",
    ),
}


@pytest.mark.parametrize(
    ("platform", "call", "operation"), VALID_REQUESTS.values(), ids=list(VALID_REQUESTS)
)
def test_a_request_the_description_allows_passes(platform: str, call: Call, operation: str) -> None:
    assert call.check(platform) == operation


def test_checked_request_decodes_path_and_query_parameters() -> None:
    checked = load_spec("discord").validate_request(
        "GET",
        f"/api/v10/guilds/{DISCORD_GUILD}/messages/search?limit=25&author_id=1&author_id=2",
        headers=DISCORD_BOT,
    )
    assert checked.path_params == {"guild_id": DISCORD_GUILD}
    assert checked.arguments == {"limit": 25, "author_id": ["1", "2"]}


def test_slack_arguments_merge_query_and_json_body() -> None:
    checked = load_spec("slack").validate_request(
        "POST",
        "/api/chat.postMessage?channel=" + SLACK_CHANNEL,
        headers={**SLACK, **JSON_TYPE},
        body=json.dumps({"text": "hi", "mrkdwn": True}).encode(),
    )
    assert checked.arguments == {"channel": SLACK_CHANNEL, "text": "hi", "mrkdwn": True}


VIOLATIONS = {
    # ---- Slack -----------------------------------------------------------------------------
    "slack unknown method": (
        "slack",
        Call("GET", "/api/conversations.histroy", {"channel": SLACK_CHANNEL}, SLACK),
        Kind.UNKNOWN_PATH,
    ),
    "slack outside the base path /api": (
        "slack",
        Call("GET", "/conversations.history", {"channel": SLACK_CHANNEL}, SLACK),
        Kind.UNKNOWN_PATH,
    ),
    "slack GET on a POST-only method": (
        "slack",
        Call("GET", "/api/chat.postMessage", {"channel": SLACK_CHANNEL, "text": "x"}, SLACK),
        Kind.WRONG_METHOD,
    ),
    "slack DELETE": ("slack", Call("DELETE", "/api/auth.test", headers=SLACK), Kind.WRONG_METHOD),
    "slack chat.postMessage without its required channel": (
        "slack",
        Call("POST", "/api/chat.postMessage", headers={**SLACK, **JSON_TYPE}, body={"text": "x"}),
        Kind.MISSING_PARAMETER,
    ),
    "slack search.messages without its required query": (
        "slack",
        Call("GET", "/api/search.messages", {"count": 20}, SLACK),
        Kind.MISSING_PARAMETER,
    ),
    "slack an argument newer than the 2021 description": (
        "slack",
        Call(
            "GET",
            "/api/conversations.history",
            {"channel": SLACK_CHANNEL, "include_all_metadata": "true"},
            SLACK,
        ),
        Kind.UNKNOWN_PARAMETER,
    ),
    "slack an integer argument that is not one": (
        "slack",
        Call(
            "GET", "/api/conversations.history", {"channel": SLACK_CHANNEL, "limit": "ten"}, SLACK
        ),
        Kind.INVALID_PARAMETER,
    ),
    "slack a boolean argument that is not one": (
        "slack",
        Call(
            "GET",
            "/api/conversations.history",
            {"channel": SLACK_CHANNEL, "inclusive": "yes"},
            SLACK,
        ),
        Kind.INVALID_PARAMETER,
    ),
    "slack blocks in a form that are not JSON": (
        "slack",
        Call(
            "POST",
            "/api/chat.postMessage",
            headers={**SLACK, **FORM_TYPE},
            body=f"channel={SLACK_CHANNEL}&blocks=[not json".encode(),
        ),
        Kind.INVALID_PARAMETER,
    ),
    "slack JSON to a method that takes forms only": (
        "slack",
        Call(
            "POST",
            "/api/conversations.history",
            headers={**SLACK, **JSON_TYPE},
            body={"channel": SLACK_CHANNEL},
        ),
        Kind.MEDIA_TYPE,
    ),
    "slack a JSON body that is not an object": (
        "slack",
        Call("POST", "/api/chat.postMessage", headers={**SLACK, **JSON_TYPE}, body=b"[1, 2]"),
        Kind.INVALID_BODY,
    ),
    "slack no token": (
        "slack",
        Call("GET", "/api/conversations.history", {"channel": SLACK_CHANNEL}),
        Kind.MISSING_CREDENTIALS,
    ),
    "slack the token in the query string": (
        "slack",
        Call("GET", "/api/auth.test", {"token": "xoxb-1-test"}),
        Kind.INVALID_PARAMETER,
    ),
    "slack JSON without Authorization": (
        "slack",
        Call(
            "POST",
            "/api/chat.postMessage",
            headers=JSON_TYPE,
            body={"channel": SLACK_CHANNEL, "text": "x", "token": "xoxb-1"},
        ),
        Kind.MISSING_CREDENTIALS,
    ),
    # ---- Discord ---------------------------------------------------------------------------
    "discord unknown path": (
        "discord",
        Call("GET", f"/api/v10/channels/{DISCORD_CHANNEL}/mesages", headers=DISCORD_BOT),
        Kind.UNKNOWN_PATH,
    ),
    "discord another API version": (
        "discord",
        Call("GET", f"/api/v9/channels/{DISCORD_CHANNEL}/messages", headers=DISCORD_BOT),
        Kind.UNKNOWN_PATH,
    ),
    "discord PUT on messages": (
        "discord",
        Call("PUT", f"/api/v10/channels/{DISCORD_CHANNEL}/messages", headers=DISCORD_BOT),
        Kind.WRONG_METHOD,
    ),
    "discord create message without its required body": (
        "discord",
        Call("POST", f"/api/v10/channels/{DISCORD_CHANNEL}/messages", headers=DISCORD_BOT),
        Kind.MISSING_BODY,
    ),
    "discord unknown query parameter": (
        "discord",
        Call("GET", f"/api/v10/channels/{DISCORD_CHANNEL}/messages", {"count": 5}, DISCORD_BOT),
        Kind.UNKNOWN_PARAMETER,
    ),
    "discord limit over its maximum of 100": (
        "discord",
        Call("GET", f"/api/v10/channels/{DISCORD_CHANNEL}/messages", {"limit": 500}, DISCORD_BOT),
        Kind.INVALID_PARAMETER,
    ),
    "discord a channel id that is not a snowflake": (
        "discord",
        Call("GET", "/api/v10/channels/general/messages", headers=DISCORD_BOT),
        Kind.INVALID_PARAMETER,
    ),
    "discord search sort_by outside its enum": (
        "discord",
        Call(
            "GET",
            f"/api/v10/guilds/{DISCORD_GUILD}/messages/search",
            {"sort_by": "random"},
            DISCORD_BOT,
        ),
        Kind.INVALID_PARAMETER,
    ),
    "discord content that is not a string": (
        "discord",
        Call(
            "POST",
            f"/api/v10/channels/{DISCORD_CHANNEL}/messages",
            headers={**DISCORD_BOT, **JSON_TYPE},
            body={"content": 42},
        ),
        Kind.INVALID_BODY,
    ),
    "discord a misspelt body field": (
        "discord",
        Call(
            "POST",
            f"/api/v10/channels/{DISCORD_CHANNEL}/messages",
            headers={**DISCORD_BOT, **JSON_TYPE},
            body={"contents": "Hello"},
        ),
        Kind.INVALID_BODY,
    ),
    "discord a Bearer token where only bot tokens go": (
        "discord",
        Call("GET", f"/api/v10/channels/{DISCORD_CHANNEL}/messages", headers=DISCORD_OAUTH),
        Kind.MISSING_CREDENTIALS,
    ),
    # ---- Mattermost ------------------------------------------------------------------------
    "mattermost unknown path": (
        "mattermost",
        Call("GET", f"/api/v4/channel/{MM_CHANNEL}/posts", headers=MATTERMOST),
        Kind.UNKNOWN_PATH,
    ),
    "mattermost DELETE /posts": (
        "mattermost",
        Call("DELETE", "/api/v4/posts", headers=MATTERMOST),
        Kind.WRONG_METHOD,
    ),
    "mattermost create post without its required message": (
        "mattermost",
        Call(
            "POST",
            "/api/v4/posts",
            headers={**MATTERMOST, **JSON_TYPE},
            body={"channel_id": MM_CHANNEL},
        ),
        Kind.INVALID_BODY,
    ),
    "mattermost search without its required is_or_search": (
        "mattermost",
        Call(
            "POST",
            f"/api/v4/teams/{MM_TEAM}/posts/search",
            headers={**MATTERMOST, **JSON_TYPE},
            body={"terms": "lunch"},
        ),
        Kind.INVALID_BODY,
    ),
    "mattermost unknown query parameter": (
        "mattermost",
        Call("GET", f"/api/v4/channels/{MM_CHANNEL}/posts", {"limit": 10}, MATTERMOST),
        Kind.UNKNOWN_PARAMETER,
    ),
    # No query parameter in these areas has an enum; a boolean is the closest.
    "mattermost a boolean parameter that is not one": (
        "mattermost",
        Call("GET", f"/api/v4/channels/{MM_CHANNEL}/posts", {"include_deleted": "yes"}, MATTERMOST),
        Kind.INVALID_PARAMETER,
    ),
    "mattermost a form body where JSON goes": (
        "mattermost",
        Call(
            "POST",
            "/api/v4/posts",
            headers={**MATTERMOST, **FORM_TYPE},
            body=f"channel_id={MM_CHANNEL}&message=hi".encode(),
        ),
        Kind.MEDIA_TYPE,
    ),
    "mattermost a body that is not JSON": (
        "mattermost",
        Call("POST", "/api/v4/posts", headers={**MATTERMOST, **JSON_TYPE}, body=b"{message: hi}"),
        Kind.INVALID_BODY,
    ),
    "mattermost no token": (
        "mattermost",
        Call("GET", "/api/v4/users/me"),
        Kind.MISSING_CREDENTIALS,
    ),
    # ---- Google Chat -----------------------------------------------------------------------
    "google chat unknown path": (
        "google_chat",
        Call("GET", "/v1/users/me/spaces/AAAAMpdlehY/readState", headers=GOOGLE),
        Kind.UNKNOWN_PATH,
    ),
    "google chat DELETE on the spaces collection": (
        "google_chat",
        Call("DELETE", "/v1/spaces", headers=GOOGLE),
        Kind.WRONG_METHOD,
    ),
    "google chat create message without its body": (
        "google_chat",
        Call("POST", "/v1/spaces/AAAAMpdlehY/messages", headers=GOOGLE),
        Kind.MISSING_BODY,
    ),
    "google chat a snake_case query parameter": (
        "google_chat",
        Call("GET", "/v1/spaces", {"page_size": 10}, GOOGLE),
        Kind.UNKNOWN_PARAMETER,
    ),
    "google chat messageReplyOption outside its enum": (
        "google_chat",
        Call(
            "POST",
            "/v1/spaces/AAAAMpdlehY/messages",
            {"messageReplyOption": "REPLY"},
            {**GOOGLE, **JSON_TYPE},
            {"text": "x"},
        ),
        Kind.INVALID_PARAMETER,
    ),
    "google chat a global parameter outside its enum": (
        "google_chat",
        Call("GET", "/v1/spaces", {"$.xgafv": "3"}, GOOGLE),
        Kind.INVALID_PARAMETER,
    ),
    "google chat a field the Message schema does not have": (
        "google_chat",
        Call(
            "POST",
            "/v1/spaces/AAAAMpdlehY/messages",
            headers={**GOOGLE, **JSON_TYPE},
            body={"text": "x", "threadKey": "abc"},
        ),
        Kind.INVALID_BODY,
    ),
    "google chat no token": (
        "google_chat",
        Call("GET", "/v1/spaces"),
        Kind.MISSING_CREDENTIALS,
    ),
}


@pytest.mark.parametrize(("platform", "call", "kind"), VIOLATIONS.values(), ids=list(VIOLATIONS))
def test_a_request_the_description_refuses_fails(platform: str, call: Call, kind: Kind) -> None:
    with pytest.raises(SpecViolation) as caught:
        call.check(platform)
    assert kind in caught.value.kinds
    assert isinstance(caught.value, AssertionError)
    assert caught.value.platform == platform


def test_a_violation_lists_every_problem_and_names_the_operation() -> None:
    with pytest.raises(SpecViolation) as caught:
        load_spec("discord").check_request(
            "GET", "/api/v10/channels/general/messages", {"limit": 0, "count": 5}
        )
    violation = caught.value
    assert violation.operation_id == "list_messages"
    assert violation.kinds == {
        Kind.INVALID_PARAMETER,
        Kind.UNKNOWN_PARAMETER,
        Kind.MISSING_CREDENTIALS,
    }
    assert len(violation.problems) == 4
    assert "channel_id" in str(violation)
    assert "Bot <token>" in str(violation)


def test_an_unknown_path_names_the_closest_ones() -> None:
    with pytest.raises(SpecViolation, match=r"closest: /chat\.postMessage"):
        load_spec("slack").check_request("POST", "/api/chat.postMesage", headers=SLACK)


def test_an_unknown_operation_id_names_the_closest() -> None:
    with pytest.raises(KeyError, match="conversations_history"):
        load_spec("slack").operation("conversations.history")


def test_unknown_platform_is_refused() -> None:
    with pytest.raises(ValueError, match="slack, discord, mattermost, google_chat"):
        load_spec("zulip")


def test_specs_are_read_once_per_process() -> None:
    assert load_spec("discord") is load_spec("discord")
    assert set(PLATFORMS) == {"slack", "discord", "mattermost", "google_chat"}
