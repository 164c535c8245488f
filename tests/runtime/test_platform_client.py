"""The shared platform client: which failures are retried, and how rate limits hold requests."""

from __future__ import annotations

import pytest
from support.fake_platform import Reply

from multichat.runtime.platform_client import (
    PlatformClient,
    PlatformError,
    RetryPolicy,
    is_global_limit,
    parse_retry_after,
    retry_after_seconds,
)
from multichat.sandbox import issue_tokens, set_faults

FAST = RetryPolicy(attempts=4, initial_backoff=0.01, max_backoff=0.02)


def _client(sandbox) -> PlatformClient:
    token = issue_tokens(
        sandbox.app.state.db, "multichat-sandbox", "U01", ["chat:read", "chat:write"]
    )["access_token"]

    async def bearer() -> str:
        return token

    return PlatformClient("sandbox", sandbox.api_url, bearer, retry=FAST)


async def test_a_read_is_retried_after_a_500(sandbox):
    set_faults(sandbox.app, server_error_fraction=1.0, server_error_status=500)
    before = sandbox.app.state.fault_counts[500]
    try:
        async with _client(sandbox) as api:
            with pytest.raises(PlatformError, match="still failed after 4 attempts"):
                await api.get("channels")
    finally:
        set_faults(sandbox.app)
    assert sandbox.app.state.fault_counts[500] - before == 4


async def test_a_post_is_not_repeated_after_a_500(sandbox):
    """A 500 may come after the message was posted: sending it again could post it twice."""
    set_faults(sandbox.app, server_error_fraction=1.0, server_error_status=500)
    before = sandbox.app.state.fault_counts[500]
    try:
        async with _client(sandbox) as api:
            with pytest.raises(PlatformError, match="HTTP 500"):
                await api.post("channels/C01/messages", {"text": "only once"})
    finally:
        set_faults(sandbox.app)
    assert sandbox.app.state.fault_counts[500] - before == 1


async def test_a_post_is_retried_after_429_and_succeeds(sandbox):
    set_faults(sandbox.app, rate_limit_fraction=0.5, retry_after=0, seed=3)
    try:
        async with _client(sandbox) as api:
            posted = [await api.post("channels/C01/messages", {"text": f"n{i}"}) for i in range(6)]
    finally:
        set_faults(sandbox.app)
    assert len({message["id"] for message in posted}) == 6
    assert sandbox.app.state.fault_counts[429] > 0


# ---- Discord's rate-limit headers ------------------------------------------------------------
# https://discord.com/developers/docs/topics/rate-limits: "Header Format" and "Exceeding A Rate
# Limit" (its example answers are the ones below), checked against Discord's own description.

#: A guild as GET /users/@me/guilds lists it (MyGuildResponse's required fields).
GUILD = {
    "id": "290926798626357250",
    "name": "Test",
    "icon": None,
    "banner": None,
    "owner": False,
    "permissions": "0",
    "features": [],
}


def _global_429(seconds: str) -> Reply:
    # "Example Exceeded Global Rate Limit Response"; the description's RatelimitedResponse
    # also requires `code`.
    body = {"message": "You are being rate limited.", "retry_after": float(seconds)}
    headers = {"Retry-After": seconds, "X-RateLimit-Global": "true", "X-RateLimit-Scope": "global"}
    return Reply({**body, "global": True, "code": 0}, 429, headers)


def _discord(fake, attempts: int = 4) -> PlatformClient:
    async def token() -> str:
        return "MTk4NjIyNDgzNDcxOTI1MjQ4.test"

    policy = RetryPolicy(attempts=attempts, initial_backoff=0.01, max_backoff=0.02)
    return PlatformClient(
        "dc",
        fake.base_url,
        token,
        scheme="bot",
        timeout=5,
        retry=policy,
        transport=fake.transport(),
    )


def test_retry_after_takes_seconds_with_decimals_and_falls_back_to_reset_after():
    assert parse_retry_after("65") == 65.0
    assert parse_retry_after("64.57") == 64.57
    assert parse_retry_after("soon") is None
    assert retry_after_seconds({"X-RateLimit-Reset-After": "1.5"}) == 1.5
    assert retry_after_seconds({"Retry-After": "2", "X-RateLimit-Reset-After": "1.5"}) == 2.0
    assert is_global_limit({"X-RateLimit-Scope": "global"})
    assert is_global_limit({"X-RateLimit-Global": "true"})
    assert not is_global_limit({"X-RateLimit-Scope": "user"})


async def test_a_global_429_holds_every_route_and_a_route_429_only_its_own(fake_platform):
    fake = fake_platform("discord")
    fake.on("get_my_user", _global_429("20"))
    fake.on("list_my_guilds", fake.rate_limited(20))
    async with _discord(fake, attempts=1) as api:
        with pytest.raises(PlatformError, match="429"):
            await api.get("users/@me/guilds")
        assert api.held_for("GET", "users/@me/guilds") > 0
        assert api.held_for("GET", "channels/1/messages") == 0
        with pytest.raises(PlatformError, match="429"):
            await api.get("users/@me")
        assert 0 < api.held_for("GET", "channels/1/messages") <= 20


async def test_an_empty_bucket_holds_its_route_until_it_resets(fake_platform):
    fake = fake_platform("discord")
    bucket = {"X-RateLimit-Limit": "5", "X-RateLimit-Remaining": "0", "X-RateLimit-Bucket": "b1"}
    fake.on(
        "list_my_guilds",
        Reply([GUILD], headers={**bucket, "X-RateLimit-Reset-After": "0.05"}),
        Reply([GUILD], headers={**bucket, "X-RateLimit-Reset-After": "20"}),
    )
    async with _discord(fake) as api:
        await api.get("users/@me/guilds")
        # Held for 50 ms: the next request waits, then goes through.
        assert (await api.get("users/@me/guilds")) == [GUILD]
        assert api.held_for("GET", "users/@me/guilds") > 1
        assert api.held_for("GET", "users/@me") == 0
    assert len(fake.calls("list_my_guilds")) == 2


async def test_a_global_429_is_retried_and_then_succeeds(fake_platform):
    fake = fake_platform("discord")
    fake.on("list_my_guilds", _global_429("0"), [GUILD])
    async with _discord(fake) as api:
        assert (await api.get("users/@me/guilds")) == [GUILD]
    assert len(fake.calls("list_my_guilds")) == 2


async def test_request_urls_are_the_ones_httpx_builds_from_the_base_and_the_query():
    """The client builds each URL whole; it must be the URL httpx's own merging gives."""
    import httpx2

    seen: list[str] = []

    def answer(request: httpx2.Request) -> httpx2.Response:
        seen.append(str(request.url))
        return httpx2.Response(200, json={})

    async def bearer() -> str:
        return "t"

    base = "https://chat.example/api/v1"
    params = {"limit": 20, "unread": True, "types": ["public", "direct"], "q": "a b&c/é"}
    transport = httpx2.MockTransport(answer)
    async with PlatformClient("x", base, bearer, transport=transport) as api:
        await api.get("channels/C 01/messages", **params)
        await api.get("https://idp.example/userinfo")
        await api.post("channels/C01/messages", {"text": "hi"})
    async with httpx2.AsyncClient(base_url=base + "/", transport=transport) as http:
        await http.get("channels/C 01/messages", params=params)
        await http.get("https://idp.example/userinfo")
        await http.post("channels/C01/messages", json={"text": "hi"})
    assert seen[:3] == seen[3:]
    assert seen[0].startswith("https://chat.example/api/v1/channels/C%2001/messages?limit=20")
