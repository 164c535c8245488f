"""Signing in to the real Synapse without a stored token: password, refresh, expiry, discovery.

The adapter's ``exchange_password`` and ``refresh_credentials`` (and the generated provider's
hooks of the same names in ``api/auth.py``) against Synapse; discovery through a stand-in for
``https://example.test/.well-known/matrix/client`` that points at it
(https://spec.matrix.org/latest/client-server-api/#well-known-uri).
"""

from __future__ import annotations

import time
from typing import Any

import httpx2
import pytest
from fastmcp.exceptions import ToolError
from matrix_support import READER, V3, WRITER, bare_adapter, call, mcp
from support.synapse import DEFAULT_ACCESS_TOKEN_LIFETIME_MS, SynapseServer
from support.synapse_fixtures import SHORT_ACCESS_TOKEN_LIFETIME_MS

from multichat.errors import NotAuthenticated, UserError
from multichat.platforms.matrix import Adapter
from multichat.platforms.matrix_signin import discover_homeserver, password_login, refresh_tokens
from multichat.runtime import load_config
from multichat.runtime.loader import activate_workspace
from multichat.runtime.token_access import reset_provider_auth


def whoami(server: SynapseServer, token: str) -> httpx2.Response:
    with server.client(token) as http:
        return http.get(f"{V3}/account/whoami")


@pytest.fixture
def adapter(matrix_workspace) -> Adapter:
    """The writer provider's adapter, its workspace active (it finds the homeserver there)."""
    activate_workspace(load_config(matrix_workspace / "provider-config.yaml"))
    return Adapter(WRITER)


async def test_a_password_sign_in_gives_refreshable_tokens(adapter, synapse):
    user = synapse.register_user(display_name="Pat Password")
    started = time.time()

    token = await adapter.exchange_password(user.localpart, user.password)

    assert set(token) == {
        "access_token",
        "token_type",
        "refresh_token",
        "expires_at",
        "user_id",
        "device_id",
    }
    assert token["user_id"] == user.user_id
    assert token["token_type"] == "Bearer"
    lifetime = token["expires_at"] - started
    assert 0 < lifetime <= DEFAULT_ACCESS_TOKEN_LIFETIME_MS / 1000 + 1
    answer = whoami(synapse, token["access_token"]).json()
    assert (answer["user_id"], answer["device_id"]) == (user.user_id, token["device_id"])


async def test_a_wrong_password_is_refused_in_one_line(adapter, synapse):
    user = synapse.register_user()

    with pytest.raises(UserError) as refused:
        await adapter.exchange_password(user.user_id, "not-the-password")

    message = str(refused.value)
    assert "refused the user name or password" in message
    assert "M_FORBIDDEN" in message
    assert "not-the-password" not in message
    assert "\n" not in message


async def test_a_refresh_token_works_once(adapter, synapse):
    first = await adapter.exchange_password(*_new_account(synapse))

    second = await adapter.refresh_credentials(first)
    # Synapse spends the old refresh token once the new tokens are used.
    assert whoami(synapse, second["access_token"]).status_code == 200
    with pytest.raises(NotAuthenticated) as reused:
        await adapter.refresh_credentials(first)

    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert (second["user_id"], second["device_id"]) == (first["user_id"], first["device_id"])
    assert second["expires_at"] >= first["expires_at"]
    assert f"run `multichat auth {WRITER}`" in str(reused.value)
    assert "refresh token" in str(reused.value)


async def test_no_refresh_token_means_signing_in_again(adapter):
    with pytest.raises(NotAuthenticated, match=f"multichat auth {WRITER}"):
        await adapter.refresh_credentials({"access_token": "expired"})


async def test_the_generated_hooks_sign_in_and_refresh(matrix_workspace, synapse):
    activate_workspace(load_config(matrix_workspace / "provider-config.yaml"))
    from src.providers.mxw.api import auth

    token = await auth.exchange_password(*_new_account(synapse))
    fresh = await auth.refresh_credentials(token)

    assert whoami(synapse, fresh["access_token"]).json()["user_id"] == token["user_id"]


async def test_an_expired_access_token_names_the_command_and_a_refresh_renews_it(
    synapse_short_lived, monkeypatch
):
    server = synapse_short_lived
    token = await password_login("mxs", server.url, *_new_account(server))
    assert token["expires_at"] - time.time() <= SHORT_ACCESS_TOKEN_LIFETIME_MS / 1000
    deadline = time.monotonic() + SHORT_ACCESS_TOKEN_LIFETIME_MS / 1000 + 30
    while whoami(server, token["access_token"]).status_code == 200:
        assert time.monotonic() < deadline, "the access token never expired"
        time.sleep(0.2)
    adapter = bare_adapter(monkeypatch, "mxs", server.url, token["access_token"])

    with pytest.raises(NotAuthenticated) as expired:
        await adapter.whoami()
    renewed = await refresh_tokens("mxs", server.url, token)

    message = str(expired.value)
    assert "run `multichat auth mxs`" in message
    assert "rejected the token" in message
    assert whoami(server, renewed["access_token"]).status_code == 200


def _new_account(server: SynapseServer) -> tuple[str, str]:
    user = server.register_user()
    return user.user_id, user.password


# ---- discovery -------------------------------------------------------------------------------


def stand_in(synapse: SynapseServer, well_known: Any) -> httpx2.MockTransport:
    """``example.test`` serving ``well_known`` (a status or a body); the rest reaches Synapse."""

    async def handle(request: httpx2.Request) -> httpx2.Response:
        url = str(request.url)
        if url == "https://example.test/.well-known/matrix/client":
            if isinstance(well_known, int):
                return httpx2.Response(well_known)
            return httpx2.Response(200, content=well_known)
        if url.startswith(synapse.url):
            async with httpx2.AsyncClient() as http:
                answer = await http.get(url)
            return httpx2.Response(answer.status_code, content=answer.content)
        raise httpx2.ConnectError("no route in the stand-in", request=request)

    return httpx2.MockTransport(handle)


async def test_well_known_names_the_homeserver(synapse):
    body = b'{"m.homeserver": {"base_url": "%s/"}}' % synapse.url.encode()

    found = await discover_homeserver("@alice:example.test", transport=stand_in(synapse, body))

    assert found == synapse.url


@pytest.mark.parametrize(
    ("well_known", "reason"),
    [
        (404, "no Matrix homeserver answers at https://example.test"),
        (b"not json", "is not JSON"),
        (b'{"m.homeserver": {}}', "names no m.homeserver.base_url"),
        (500, "answered HTTP 500"),
    ],
)
async def test_discovery_failures_say_what_to_do(synapse, well_known, reason):
    with pytest.raises(UserError, match=reason):
        await discover_homeserver("@alice:example.test", transport=stand_in(synapse, well_known))


async def test_discovery_refuses_what_is_not_a_user_id():
    with pytest.raises(UserError, match="not a Matrix user id"):
        await discover_homeserver("@alice:evil.test/path")


async def test_a_signed_out_token_names_the_command_that_fixes_it(
    matrix_workspace, synapse, synapse_seeded, monkeypatch
):
    revoked = synapse.login(synapse_seeded.reader, refresh_token=False).access_token
    with synapse.client(revoked) as http:
        assert http.post(f"{V3}/logout", json={}).status_code == 200
    monkeypatch.setenv("MULTICHAT_MX_TOKEN", revoked)
    reset_provider_auth()
    try:
        async with mcp(matrix_workspace) as client:
            with pytest.raises(ToolError) as failed:
                await call(client, READER, "whoami")
            with pytest.raises(ToolError) as listing:
                await call(client, READER, "list_channels")
    finally:
        reset_provider_auth()

    for error in (failed.value, listing.value):
        assert f"run `multichat auth {READER}`" in str(error)
        assert "rejected the token" in str(error)
