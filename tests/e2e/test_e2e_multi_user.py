"""``multichat run --multi-user`` end to end: OAuth 2.1 through the OIDC proxy, then sign-in links.

Real parts only: oidc-provider (npm) is the team's identity provider, with a client registered
for the server through its registration endpoint as an administrator would; the server is the
installed ``multichat`` console script in a subprocess; the MCP clients are FastMCP's
``Client`` with its ``OAuth`` helper (discovery, dynamic client registration, PKCE), whose
browser steps are answered over HTTP; the platform is the sandbox with its OAuth server.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import anyio.to_thread
import httpx2
import pytest
from helpers import (
    MULTICHAT,
    clean_env,
    free_port,
    run_cli,
    stop_process,
)
from support.mcp_oauth import oauth_client as client_for
from support.oidc_provider import OidcProviderServer
from support.team_processes import (
    PROVIDER,
    refused_link,
    sign_in_at_the_sandbox,
    team_workspace,
    wait_until_serving,
    whoami,
)

from multichat.sandbox import SandboxServer

pytestmark = pytest.mark.filterwarnings("ignore:Using in-memory token storage:UserWarning")


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer() as server:
        yield server


@pytest.fixture
def team_server(
    workspace: Path,
    add_provider,
    sandbox: SandboxServer,
    oidc_provider: OidcProviderServer,
    tmp_path: Path,
) -> Iterator[tuple[str, Path, Path]]:
    """``multichat run --multi-user`` on a sandbox workspace: URL, workspace, stderr's file."""
    del add_provider
    port = free_port()
    public_url = f"http://127.0.0.1:{port}"
    secret = team_workspace(workspace, sandbox, oidc_provider, public_url)
    log = tmp_path / "server-stderr.txt"
    (tmp_path / "oidc-secret").write_text(secret)
    with log.open("w") as stderr:
        process = subprocess.Popen(
            [MULTICHAT, "run", "--transport", "http", "--multi-user", "--port", str(port)],
            cwd=workspace,
            env=clean_env(MULTICHAT_OIDC_CLIENT_SECRET=secret),
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        wait_until_serving(public_url, process, log)
        yield public_url, workspace, log
    finally:
        stop_process(process)


async def test_two_people_sign_in_through_the_idp_and_each_uses_their_own_account(
    team_server: tuple[str, Path, Path], oidc_provider: OidcProviderServer
):
    url, workspace, log = team_server
    async with (
        client_for(url, oidc_provider, "alice") as alice,
        client_for(url, oidc_provider, "bob") as bob,
    ):
        # First calls: neither has a platform token; each gets their own link.
        alice_link, bob_link = await refused_link(alice), await refused_link(bob)
        assert alice_link != bob_link
        for link, account in ((alice_link, "ada"), (bob_link, "grace")):
            page = await anyio.to_thread.run_sync(sign_in_at_the_sandbox, link, account)
            assert "Signed in" in page

        answers = await asyncio.gather(*(whoami(alice if n % 2 else bob) for n in range(40)))
        assert answers == ["U01" if n % 2 else "U02" for n in range(40)]

    people = list((workspace / ".multichat" / "users").iterdir())
    assert len(people) == 2
    assert not (workspace / "src" / "providers" / PROVIDER / "token.json").exists()

    # Audit: one line per call naming the person (the IdP's sub) and the tool; no secret.
    text = log.read_text()
    audit = [line for line in text.splitlines() if "multichat.audit" in line]
    assert sum("user=alice@" in line and "tool=chat_whoami" in line for line in audit) >= 21
    assert sum("user=bob@" in line and "outcome=ok" in line for line in audit) >= 20
    assert any("user=alice@" in line and "SignInRequired" in line for line in audit)
    secrets = [(log.parent / "oidc-secret").read_text()]
    for person in people:
        token = json.loads((person / PROVIDER / "token.json").read_text())
        secrets += [token["access_token"], token["refresh_token"]]
    for secret in secrets:
        assert secret not in text
    for link in (alice_link, bob_link):
        assert parse_qs(urlsplit(link).query)["ticket"][0] not in text


async def test_without_oauth_the_server_answers_401_with_its_metadata(
    team_server: tuple[str, Path, Path],
):
    url, _, _ = team_server
    async with httpx2.AsyncClient(timeout=10) as http:
        response = await http.post(f"{url}/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
        metadata = (await http.get(f"{url}/.well-known/oauth-authorization-server")).json()
    assert response.status_code == 401
    assert "resource_metadata" in response.headers["www-authenticate"]
    assert metadata["registration_endpoint"] == f"{url}/register"
    assert "S256" in metadata["code_challenge_methods_supported"]


#: A team server's identity source that needs nothing running until a request comes
#: (docs/deploy.md: ``server.auth.jwt`` can name people instead of an OIDC provider).
JWT_AUTH = (
    "server:\n  auth:\n    jwt:\n      issuer: https://idp.example/\n"
    "      audience: multichat\n      jwks_uri: https://idp.example/jwks.json\n"
)


@pytest.mark.parametrize(
    ("arguments", "config_tail", "said"),
    [
        (["--multi-user"], "", "applies to --transport http only"),
        (["--transport", "http", "--multi-user"], "", "needs the URL people reach"),
        (
            ["--transport", "http", "--multi-user", "--public-url", "http://mcp.example.com"],
            "",
            "must use https",
        ),
        (
            ["--transport", "http", "--multi-user", "--public-url", "https://mcp.example.com"],
            "",
            "needs to know who each person is",
        ),
        (
            ["--transport", "http", "--multi-user", "--public-url", "http://127.0.0.1:8210?x=1"],
            JWT_AUTH,
            "--public-url http://127.0.0.1:8210?x=1: must not have a query string or a fragment",
        ),
        (
            ["--transport", "http", "--multi-user", "--public-url", "https://mcp.example.com#x"],
            JWT_AUTH,
            "--public-url https://mcp.example.com#x: must not have a query string or a fragment",
        ),
        (
            ["--transport", "http", "--multi-user"],
            JWT_AUTH + "  public_url: https://mcp.example.com/?team=a\n",
            "`server.public_url`: Value error, must not have a query string or a fragment",
        ),
        (
            ["--transport", "http", "--multi-user", "--auth-token", "x" * 32],
            "server:\n  public_url: https://mcp.example.com\n",
            "would serve everyone as one",
        ),
        (
            ["--transport", "http", "--multi-user"],
            "server:\n  public_url: https://mcp.example.com\n  auth:\n    oidc:\n"
            "      issuer: https://idp.example\n      client_id: team\n",
            "MULTICHAT_OIDC_CLIENT_SECRET",
        ),
    ],
)
def test_run_refuses_a_team_server_it_cannot_make_safe(
    workspace: Path, add_provider, arguments: list[str], config_tail: str, said: str
):
    add_provider("alpha")
    config = workspace / "provider-config.yaml"
    config.write_text(config.read_text() + config_tail)
    result = run_cli("run", *arguments, "--port", "0", cwd=workspace, timeout=60)

    assert result.returncode == 2, result.stderr
    assert said in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr  # nothing said before it
