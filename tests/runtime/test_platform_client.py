"""The shared platform client against the sandbox: which failures are retried, and which not."""

from __future__ import annotations

import pytest

from multichat.runtime.platform_client import PlatformClient, PlatformError, RetryPolicy
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
