"""One server for a team, on the sandbox: each person's calls use only that person's token.

People are told apart by verified JWTs (FastMCP's ``JWTVerifier``, as ``server.auth.jwt``
configures it); the server is the real ASGI app on uvicorn on 127.0.0.1, the clients real MCP
clients over HTTP, the platform the sandbox with its OAuth server. The OpenID Connect proxy
in front is tested in tests/e2e/test_e2e_multi_user.py.
"""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import httpx2
import pytest
from fastmcp import Client
from fastmcp.exceptions import ToolError
from helpers import HtmlForm, free_port, generated_workspace, set_provider_keys
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from team_server import ALICE, BOB, CAROL, Team, link_pattern, serving_team

from multichat.runtime import load_config, provider_auth, token_access
from multichat.runtime.config import TOKEN_DIR_ENV, OIDCSettings
from multichat.runtime.local_signin import sign_out
from multichat.runtime.multi_user import OIDC_SECRET_ENV, oidc_proxy, proxy_dir
from multichat.runtime.server import build_server
from multichat.runtime.users import (
    acting_as,
    user_token_path,
)
from multichat.sandbox import SandboxServer, issue_tokens, register_client

PROVIDER = "chat"
TEAM_CLIENT = "multichat-team"
SCOPES = ["chat:read", "chat:write", "users:read"]
LINK = link_pattern(PROVIDER)


@pytest.fixture(scope="module")
def team_workspace(sandbox: SandboxServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A sandbox-preset workspace whose OAuth client is the team's (callback: /signin/...)."""
    folder = generated_workspace(
        tmp_path_factory.mktemp("team") / "ws",
        PROVIDER,
        "sandbox",
        {"platform_url": sandbox.url, "port": free_port()},
    )
    register_client(
        sandbox.app.state.db, TEAM_CLIENT, "team server", ["http://127.0.0.1/signin/chat/callback"]
    )
    config = load_config(folder / "provider-config.yaml")
    oauth = dict(config.provider(PROVIDER).oauth.model_dump(exclude_none=True))  # type: ignore[union-attr]
    set_provider_keys(folder, PROVIDER, oauth={**oauth, "client_id": TEAM_CLIENT})
    return folder


@pytest.fixture
def team(team_workspace: Path, sandbox: SandboxServer) -> Iterator[Team]:
    """The workspace served to people over HTTP; Alice signed in as Ada, Bob as Grace."""
    tokens = {
        person: issue_tokens(sandbox.app.state.db, TEAM_CLIENT, sandbox_user, SCOPES)
        for person, sandbox_user in ((ALICE, "U01"), (BOB, "U02"))
    }
    with serving_team(team_workspace, PROVIDER, tokens) as team:
        yield team


async def whoami(client: Client[Any]) -> str:
    result = await client.call_tool(f"{PROVIDER}_whoami", {})
    return str(result.structured_content["id"])  # type: ignore[index]


async def test_each_person_gets_their_own_account(team: Team):
    async with team.client(ALICE) as alice, team.client(BOB) as bob:
        assert await whoami(alice) == "U01"
        assert await whoami(bob) == "U02"
        assert await whoami(alice) == "U01"


async def test_concurrent_calls_of_two_people_never_cross(team: Team):
    async with team.client(ALICE) as alice, team.client(BOB) as bob:
        calls = [whoami(alice if n % 2 else bob) for n in range(60)]
        answers = await asyncio.gather(*calls)

    assert answers == ["U01" if n % 2 else "U02" for n in range(60)]


async def test_tokens_live_apart_with_mode_0600_and_the_shared_file_is_not_made(team: Team):
    config = load_config(team.workspace / "provider-config.yaml")
    alice_file = user_token_path(team.workspace, ALICE, PROVIDER)
    bob_file = user_token_path(team.workspace, BOB, PROVIDER)

    assert alice_file != bob_file
    assert alice_file.stat().st_mode & 0o777 == 0o600
    assert bob_file.stat().st_mode & 0o777 == 0o600
    assert ALICE.subject not in str(alice_file)  # a digest names the folder, not the sub
    assert not config.token_path(PROVIDER).exists()


async def test_a_person_without_a_token_gets_a_link_that_signs_in_only_them(
    team: Team, sandbox: SandboxServer
):
    async with team.client(CAROL) as carol:
        with pytest.raises(ToolError) as refused:
            await whoami(carol)
        found = LINK.search(str(refused.value))
        assert found is not None, str(refused.value)
        link = found.group(0)
        assert link.startswith(f"{team.public_url}/signin/chat?ticket=")

        page = sign_in_through_the_sandbox(link, sandbox_user="alan")
        assert page.status_code == 200, page.text
        assert "Signed in" in page.text

        assert await whoami(carol) == "U03"
    async with team.client(ALICE) as alice:
        assert await whoami(alice) == "U01"
    # The link is single use.
    with httpx2.Client(timeout=10) as browser:
        assert browser.get(link).status_code == 400


async def test_a_code_cannot_be_delivered_to_another_browser(team: Team):
    async with team.client(CAROL) as carol:
        with pytest.raises(ToolError) as refused:
            await whoami(carol)
    link = LINK.search(str(refused.value)).group(0)  # type: ignore[union-attr]
    with httpx2.Client(timeout=10) as victim, httpx2.Client(timeout=10) as attacker:
        to_platform = victim.get(link)
        assert to_platform.status_code == 302
        callback = consent(attacker, to_platform.headers["location"], "alan")
        assert attacker.get(callback).status_code == 400
    assert not user_token_path(team.workspace, CAROL, PROVIDER).exists()


async def test_signing_out_affects_only_that_person(team: Team):
    config = load_config(team.workspace / "provider-config.yaml")
    with acting_as(ALICE):
        notes = sign_out(config, PROVIDER)
    assert any("revoked" in note for note in notes), notes

    async with team.client(ALICE) as alice, team.client(BOB) as bob:
        with pytest.raises(ToolError, match="/signin/chat"):
            await whoami(alice)
        assert await whoami(bob) == "U02"
    assert not user_token_path(team.workspace, ALICE, PROVIDER).exists()
    assert user_token_path(team.workspace, BOB, PROVIDER).exists()


async def test_a_person_signs_themselves_out_with_the_tool_and_only_themselves(
    team: Team, sandbox: SandboxServer
):
    alice_file = user_token_path(team.workspace, ALICE, PROVIDER)
    alice_token = json.loads(alice_file.read_text())["access_token"]
    async with team.client(ALICE) as alice, team.client(BOB) as bob:
        listed = {tool.name: tool for tool in await alice.list_tools()}
        assert listed[f"{PROVIDER}_sign_out"].annotations.destructive_hint is True  # type: ignore[union-attr]
        done = await alice.call_tool(f"{PROVIDER}_sign_out", {})
        text = done.content[0].text  # type: ignore[union-attr]
        assert text.startswith(f"Signed out of {PROVIDER}: this server deleted your token")
        assert "revoked your refresh token and access token" in text
        assert str(team.workspace) not in text  # no server paths go to a person's client

        with pytest.raises(ToolError, match="/signin/chat"):
            await whoami(alice)
        assert await whoami(bob) == "U02"
        again = await alice.call_tool(f"{PROVIDER}_sign_out", {})
        assert again.content[0].text == f"You were not signed in to {PROVIDER} on this server."  # type: ignore[union-attr]
    assert not alice_file.exists()
    assert user_token_path(team.workspace, BOB, PROVIDER).exists()
    revoked = httpx2.get(
        f"{sandbox.api_url}/me", headers={"Authorization": f"Bearer {alice_token}"}, timeout=10
    )
    assert revoked.status_code == 401


async def test_a_server_for_one_person_has_no_sign_out_tool(workspace: Path, add_provider):
    add_provider("alpha")
    server, _ = build_server(load_config(workspace / "provider-config.yaml"))
    async with Client(server) as client:
        names = {tool.name for tool in await client.list_tools()}
    assert "alpha_provider_info" in names
    assert not any(name.endswith("_sign_out") for name in names)


async def test_audit_lines_name_the_person_and_tool_and_never_a_secret(
    team: Team, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.DEBUG)
    async with team.client(ALICE) as alice, team.client(BOB) as bob, team.client(CAROL) as carol:
        await whoami(alice)
        await whoami(bob)
        with pytest.raises(ToolError) as refused:
            await whoami(carol)
    link = LINK.search(str(refused.value)).group(0)  # type: ignore[union-attr]
    ticket = parse_qs(urlsplit(link).query)["ticket"][0]

    audit = [r.getMessage() for r in caplog.records if r.name == "multichat.audit"]
    assert any("user=alice (alice-sub@" in line and "tool=chat_whoami" in line for line in audit)
    assert any("user=bob (bob-sub@" in line and "outcome=ok" in line for line in audit)
    assert any("user=carol" in line and "SignInRequired" in line for line in audit), audit
    everything = "\n".join(r.getMessage() for r in caplog.records) + caplog.text
    for secret in [*team.secrets, ticket]:
        assert secret not in everything


def consent(browser: httpx2.Client, authorize_url: str, sandbox_user: str) -> str:
    """Allow on the sandbox's consent page as ``sandbox_user``; the redirect back to us."""
    parts = urlsplit(authorize_url)
    query = urlencode([*parse_qs(parts.query, keep_blank_values=True).items()], doseq=True)
    url = urlunsplit(parts._replace(query=f"{query}&login_hint={sandbox_user}"))
    form = HtmlForm(browser.get(url).text)
    answer = browser.post(
        urljoin_action(url, form.action), data={**form.fields, "decision": "allow"}
    )
    assert answer.status_code == 302, answer.text
    return str(answer.headers["location"])


def urljoin_action(page_url: str, action: str) -> str:
    from urllib.parse import urljoin

    return urljoin(page_url, action)


def sign_in_through_the_sandbox(link: str, sandbox_user: str) -> httpx2.Response:
    """Open ``link`` in one browser, consent at the sandbox, come back: the last page."""
    with httpx2.Client(timeout=10) as browser:
        to_platform = browser.get(link)
        assert to_platform.status_code == 302, to_platform.text
        callback = consent(browser, to_platform.headers["location"], sandbox_user)
        return browser.get(callback)


async def test_an_expired_token_is_refreshed_once_for_its_person_only(
    team: Team, sandbox: SandboxServer
):
    expired = issue_tokens(sandbox.app.state.db, TEAM_CLIENT, "U01", SCOPES)
    team.secrets += [expired["access_token"], expired["refresh_token"]]
    auth = provider_auth(PROVIDER)
    with acting_as(ALICE):
        auth.save_credentials({**expired, "expires_at": time.time() - 10})
    bob_before = json.loads(user_token_path(team.workspace, BOB, PROVIDER).read_text())
    refreshes = auth.refresh_count

    async with team.client(ALICE) as alice, team.client(BOB) as bob:
        answers = await asyncio.gather(*(whoami(alice if n % 2 else bob) for n in range(40)))

    assert answers == ["U01" if n % 2 else "U02" for n in range(40)]
    assert auth.refresh_count == refreshes + 1
    alice_after = json.loads(user_token_path(team.workspace, ALICE, PROVIDER).read_text())
    assert alice_after["access_token"] != expired["access_token"]
    assert json.loads(user_token_path(team.workspace, BOB, PROVIDER).read_text()) == bob_before


async def test_a_person_whose_refresh_token_the_platform_refuses_gets_a_new_link(
    team: Team, sandbox: SandboxServer, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.INFO, logger="multichat.audit")
    alice_file = user_token_path(team.workspace, ALICE, PROVIDER)
    stored = json.loads(alice_file.read_text())
    with acting_as(ALICE):
        provider_auth(PROVIDER).save_credentials({**stored, "expires_at": time.time() - 10})
    # The sandbox's admin API: every token of ada (U01), the refresh token too, is revoked.
    revoked = httpx2.post(
        f"{sandbox.url}/admin/users/ada/revoke-tokens",
        headers={"X-Sandbox-Admin": sandbox.admin_token},
        timeout=10,
    )
    assert revoked.status_code == 200, revoked.text

    async with team.client(ALICE) as alice, team.client(BOB) as bob:
        with pytest.raises(ToolError) as refused:
            await whoami(alice)
        assert "rejected the refresh token" in str(refused.value)
        assert LINK.search(str(refused.value)) is not None, str(refused.value)
        assert "multichat auth" not in str(refused.value)
        assert not alice_file.exists()  # the dead token is gone: no second refusal to wait for
        with pytest.raises(ToolError, match="no token yet") as again:
            await whoami(alice)
        assert await whoami(bob) == "U02"

        link = LINK.search(str(again.value)).group(0)  # type: ignore[union-attr]
        assert sign_in_through_the_sandbox(link, sandbox_user="ada").status_code == 200
        assert await whoami(alice) == "U01"
    audit = [r.getMessage() for r in caplog.records if r.name == "multichat.audit"]
    assert any("user=alice" in line and "SignInRequired" in line for line in audit), audit
    assert not any("RefreshRejected" in line for line in audit), audit


async def test_removing_a_persons_folder_signs_them_out_while_the_server_runs(
    team: Team, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(token_access, "FILE_CHECK_INTERVAL", 0.0)  # check on every call
    alice_folder = user_token_path(team.workspace, ALICE, PROVIDER).parent.parent
    async with team.client(ALICE) as alice, team.client(BOB) as bob:
        assert await whoami(alice) == "U01"  # her token is now in memory
        shutil.rmtree(alice_folder)  # what docs/deploy.md says forgets a person

        with pytest.raises(ToolError, match="no token yet") as refused:
            await whoami(alice)
        assert LINK.search(str(refused.value)) is not None, str(refused.value)
        assert await whoami(bob) == "U02"


def test_the_proxy_keeps_its_state_in_the_token_folder_when_one_is_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    # OpenID Connect Discovery 1.0, section 3 (the required metadata):
    # https://openid.net/specs/openid-connect-discovery-1_0.html#ProviderMetadata
    issuer_app = Starlette(routes=[Route("/.well-known/openid-configuration", discovery_document)])
    workspace = tmp_path / "ws"
    workspace.mkdir()
    tokens = tmp_path / "tokens"
    monkeypatch.setenv(TOKEN_DIR_ENV, str(tokens))
    monkeypatch.setenv(OIDC_SECRET_ENV, "idp-client-secret")
    with SandboxServer(app=issuer_app) as issuer:
        settings = OIDCSettings(issuer=issuer.url, client_id="multichat-team")
        oidc_proxy(settings, "http://127.0.0.1:9", workspace)

    key = tokens / "oauth-proxy" / "key"
    assert key.stat().st_mode & 0o777 == 0o600
    assert (tokens / "oauth-proxy" / "store").is_dir()
    assert not (workspace / ".multichat").exists()  # a read-only workspace would do
    monkeypatch.delenv(TOKEN_DIR_ENV)
    assert proxy_dir(workspace) == workspace / ".multichat" / "oauth-proxy"


async def discovery_document(request: Request) -> JSONResponse:
    issuer = str(request.base_url).rstrip("/")
    return JSONResponse(
        {
            "issuer": issuer,
            "authorization_endpoint": f"{issuer}/authorize",
            "token_endpoint": f"{issuer}/token",
            "jwks_uri": f"{issuer}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
        }
    )
