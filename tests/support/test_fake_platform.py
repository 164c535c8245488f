"""The fake platform checks every exchange, in-process and on a real socket.

Canned objects come from support.canned, which cites their sources.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx2
import pytest

from multichat.errors import NotAuthenticated
from multichat.runtime import PlatformClient, RetryPolicy
from support.canned import (
    DISCORD_BOT,
    DISCORD_CHANNEL,
    DISCORD_MESSAGE,
    DISCORD_MESSAGE_OBJECT,
    DISCORD_USER,
    GOOGLE,
    MM_CHANNEL,
    MM_POST_OBJECT,
    SLACK_CHANNEL,
    SLACK_HISTORY,
)
from support.fake_platform import (
    FakePlatform,
    FakePlatformFailures,
    RecordedRequest,
    Reply,
    UnexpectedRequest,
)
from support.platform_specs import PLATFORMS, Kind, SpecViolation, load_spec

FAST_RETRIES = RetryPolicy(attempts=3, initial_backoff=0.01, max_backoff=0.02)


async def _token() -> str:
    return "test-token"


async def test_an_httpx_client_goes_through_the_fake_transport() -> None:
    fake = FakePlatform("discord")
    fake.on("get_my_user", {**DISCORD_USER, "mfa_enabled": False, "locale": "en-US"})
    fake.on("list_messages", [DISCORD_MESSAGE_OBJECT])
    async with httpx2.AsyncClient(
        transport=fake.transport(), base_url=fake.base_url + "/", headers=DISCORD_BOT
    ) as http:
        me = await http.get("users/@me")
        page = await http.get(f"channels/{DISCORD_CHANNEL}/messages", params={"limit": 1})
    assert me.status_code == 200
    assert me.json()["username"] == DISCORD_USER["username"]
    assert page.json() == [DISCORD_MESSAGE_OBJECT]
    [call] = fake.calls("list_messages")
    assert call.path_params == {"channel_id": DISCORD_CHANNEL}
    assert call.arguments == {"limit": 1}
    assert call.headers["authorization"] == DISCORD_BOT["Authorization"]
    fake.assert_clean()


async def test_platform_client_waits_out_the_platforms_429_then_reads_the_page() -> None:
    fake = FakePlatform("slack")
    fake.on("conversations_history", fake.rate_limited(0), SLACK_HISTORY)
    client = PlatformClient(
        "slack_test",
        fake.base_url,
        _token,
        timeout=5,
        retry=FAST_RETRIES,
        transport=fake.transport(),
    )
    async with client:
        page = await client.get("conversations.history", channel=SLACK_CHANNEL, limit=15)
    assert page == SLACK_HISTORY
    assert client.attempts_made == 2
    assert [call.arguments for call in fake.calls("conversations_history")] == [
        {"channel": SLACK_CHANNEL, "limit": 15}
    ] * 2
    fake.assert_clean()


async def test_a_handler_sees_the_decoded_body_and_the_success_status_is_the_descriptions() -> None:
    fake = FakePlatform("mattermost")

    def create(request: RecordedRequest) -> dict[str, Any]:
        return {**MM_POST_OBJECT, "message": request.body["message"]}

    fake.on("CreatePost", create)
    async with PlatformClient(
        "mm_test", fake.base_url, _token, timeout=5, transport=fake.transport()
    ) as client:
        post = await client.post("api/v4/posts", {"channel_id": MM_CHANNEL, "message": "Hi"})
    assert post["message"] == "Hi"
    assert fake.requests[0].operation_id == "CreatePost"
    fake.assert_clean()  # the reply went out as 201, the only success CreatePost describes


@pytest.mark.parametrize("platform", ["mattermost", "google_chat"])
async def test_a_rejected_token_reaches_platform_client_as_not_authenticated(platform: str) -> None:
    fake = FakePlatform(platform)
    operation, path = {
        "mattermost": ("GetUser", "api/v4/users/me"),
        "google_chat": ("chat.spaces.list", "v1/spaces"),
    }[platform]
    fake.on(operation, fake.token_rejected())
    async with PlatformClient(
        "t", fake.base_url, _token, timeout=5, transport=fake.transport()
    ) as client:
        with pytest.raises(NotAuthenticated):
            await client.get(path)
    fake.assert_clean()


@pytest.mark.parametrize("platform", PLATFORMS)
def test_the_canned_rate_limit_and_token_replies_follow_each_description(platform: str) -> None:
    fake = FakePlatform(platform)
    operation = {
        "slack": "conversations_history",
        "discord": "list_messages",
        "mattermost": "GetPostsForChannel",
        "google_chat": "chat.spaces.messages.list",
    }[platform]
    for reply in (fake.rate_limited(2), fake.token_rejected()):
        status, headers, body = reply.encode(200)
        load_spec(platform).check_response(operation, status, body, headers)
    assert fake.rate_limited(2).headers["Retry-After"] == "2"


async def test_a_refused_request_is_answered_400_and_fails_the_test() -> None:
    fake = FakePlatform("google_chat")
    fake.on("chat.spaces.list", {"spaces": []})
    async with httpx2.AsyncClient(transport=fake.transport(), headers=GOOGLE) as http:
        answer = await http.get(fake.base_url + "/v1/spaces", params={"page_size": 10})
    assert answer.status_code == 400
    assert "page_size" in answer.json()["reason"]
    assert fake.requests[0].operation_id == "chat.spaces.list"
    with pytest.raises(SpecViolation) as caught:
        fake.assert_clean()
    assert caught.value.kinds == {Kind.UNKNOWN_PARAMETER}


async def test_a_reply_the_description_refuses_is_answered_400_and_fails_the_test() -> None:
    fake = FakePlatform("google_chat")
    fake.on("chat.spaces.list", {"spaces": [{"name": "spaces/AAAAMpdlehY", "spaceType": "ROOM"}]})
    async with httpx2.AsyncClient(transport=fake.transport(), headers=GOOGLE) as http:
        answer = await http.get(fake.base_url + "/v1/spaces")
    assert answer.status_code == 400
    with pytest.raises(SpecViolation) as caught:
        fake.assert_clean()
    assert caught.value.kinds == {Kind.INVALID_RESPONSE}


async def test_a_request_without_a_reply_or_with_a_broken_handler_is_501() -> None:
    fake = FakePlatform("discord")

    def broken(request: RecordedRequest) -> Any:
        raise RuntimeError("fixture bug")

    fake.on("get_my_user", broken)
    async with httpx2.AsyncClient(transport=fake.transport(), headers=DISCORD_BOT) as http:
        unprepared = await http.get(f"{fake.base_url}/channels/{DISCORD_CHANNEL}/messages")
        crashed = await http.get(f"{fake.base_url}/users/@me")
    assert (unprepared.status_code, crashed.status_code) == (501, 501)
    with pytest.raises(FakePlatformFailures) as caught:
        fake.assert_clean()
    assert [type(failure) for failure in caught.value.failures] == [UnexpectedRequest] * 2
    assert "fake.on('list_messages', ...)" in str(caught.value)
    assert "fixture bug" in str(caught.value)


async def test_replies_are_used_in_order_the_last_repeating_and_may_be_async() -> None:
    fake = FakePlatform("discord")

    async def later(request: RecordedRequest) -> Reply:
        await asyncio.sleep(0)
        return Reply([])

    fake.on("list_messages", [DISCORD_MESSAGE_OBJECT], later)
    async with httpx2.AsyncClient(transport=fake.transport(), headers=DISCORD_BOT) as http:
        url = f"{fake.base_url}/channels/{DISCORD_CHANNEL}/messages"
        bodies = [(await http.get(url)).json() for _ in range(3)]
    assert bodies == [[DISCORD_MESSAGE_OBJECT], [], []]
    fake.assert_clean()


def test_registering_an_unknown_operation_fails_at_once() -> None:
    with pytest.raises(KeyError, match="list_messages"):
        FakePlatform("discord").on("list_message", [])


def test_leaving_the_with_block_raises_what_was_kept() -> None:
    with pytest.raises(SpecViolation), FakePlatform("slack") as fake:
        fake.failures.append(SpecViolation("slack", "a test", []))


def test_the_fake_serves_on_a_real_socket() -> None:
    fake = FakePlatform("discord")
    fake.on("add_my_message_reaction", Reply(status=204))
    with fake.serve() as base_url, httpx2.Client(headers=DISCORD_BOT, timeout=10) as http:
        assert base_url.startswith("http://127.0.0.1:")
        assert base_url.endswith("/api/v10")
        reacted = http.put(
            f"{base_url}/channels/{DISCORD_CHANNEL}/messages/{DISCORD_MESSAGE}/reactions/%F0%9F%91%8D/@me"
        )
        refused = http.put(f"{base_url}/channels/{DISCORD_CHANNEL}/messages")
    assert (reacted.status_code, refused.status_code) == (204, 400)
    [call] = fake.calls("add_my_message_reaction")
    assert call.path_params["emoji_name"] == "\N{THUMBS UP SIGN}"
    with pytest.raises(SpecViolation) as caught:
        fake.assert_clean()
    assert caught.value.kinds == {Kind.WRONG_METHOD}


async def test_the_fixture_makes_fakes_and_checks_them_at_teardown(
    fake_platform: Any,
) -> None:
    fake = fake_platform("mattermost")
    fake.on("GetPostsForChannel", {"order": [], "posts": {}})
    async with PlatformClient(
        "mm_test", fake.base_url, _token, timeout=5, transport=fake.transport()
    ) as client:
        assert await client.get(f"api/v4/channels/{MM_CHANNEL}/posts", per_page=60) == {
            "order": [],
            "posts": {},
        }
