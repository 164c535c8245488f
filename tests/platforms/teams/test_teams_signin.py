"""What the teams preset's config makes of sign-in: Entra ID v2 endpoints in the tenant, a
public client (PKCE, no secret), the scopes with the admin-consent ones marked in the steps.

``multichat auth`` itself is the runtime's; these tests read the preset's config through the
runtime's authorization flow: the authorize URL and the form the token endpoint receives.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from helpers import free_port
from ruamel.yaml import YAML
from teams_support import PROVIDER

from multichat.errors import MultichatError
from multichat.runtime.config import load_config
from multichat.runtime.oauth import AuthorizationFlow
from multichat.sandbox.server import SandboxServer

TENANT = "2432b57b-0abd-43db-aa7b-16eadd115d34"
CLIENT_ID = "00001111-aaaa-2222-bbbb-3333cccc4444"
SCOPES = [
    "offline_access",
    "User.Read",
    "User.ReadBasic.All",
    "Team.ReadBasic.All",
    "Channel.ReadBasic.All",
    "Chat.ReadWrite",
    "ChannelMessage.Send",
    "ChannelMessage.Read.All",
    "ChannelMessage.ReadWrite",
]


def generate(workspace: Path, **data: object) -> str:
    from multichat.generator.provider import add_provider

    created = add_provider(
        PROVIDER,
        config_path=workspace / "provider-config.yaml",
        preset="teams",
        data={"port": free_port(), **data},
    )
    return created.next_steps


def test_the_authorize_url_is_entras_v2_in_the_tenant_with_pkce(workspace: Path):
    generate(workspace, tenant=TENANT, client_id=CLIENT_ID)
    config = load_config(workspace / "provider-config.yaml")

    url = urlsplit(AuthorizationFlow(config, PROVIDER).authorization_url())

    query = {key: values[0] for key, values in parse_qs(url.query).items()}
    assert (url.netloc, url.path) == (
        "login.microsoftonline.com",
        f"/{TENANT}/oauth2/v2.0/authorize",
    )
    assert query["client_id"] == CLIENT_ID
    assert query["scope"].split() == SCOPES
    assert query["code_challenge_method"] == "S256"
    assert query["redirect_uri"].startswith("http://127.0.0.1:")
    assert config.provider(PROVIDER).oauth.token_url == (
        f"https://login.microsoftonline.com/{TENANT}/oauth2/v2.0/token"
    )
    assert config.provider(PROVIDER).api_base_url == "https://graph.microsoft.com/v1.0"
    assert config.provider(PROVIDER).auth.whoami == "me"


@pytest.fixture
def token_endpoint() -> Iterator[tuple[str, list[dict[str, str]]]]:
    """A token endpoint that records each form and answers as Entra does
    (https://learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow,
    "Successful response")."""
    received: list[dict[str, str]] = []
    app = FastAPI()

    @app.post("/token")
    async def token(request: Request) -> JSONResponse:
        form = await request.form()
        received.append({key: str(value) for key, value in form.items()})
        return JSONResponse(
            {
                "access_token": "eyJ0eXAiOi.fresh",
                "token_type": "Bearer",
                "expires_in": 3599,
                "scope": " ".join(SCOPES[1:]),
                "refresh_token": "0.AAAA-refresh",
            }
        )

    with SandboxServer(app=app) as server:
        yield f"{server.url}/token", received


async def test_the_code_exchange_sends_no_secret_even_if_one_is_on_disk(
    workspace: Path, token_endpoint
):
    url, received = token_endpoint
    generate(workspace, client_id=CLIENT_ID)
    path = workspace / "provider-config.yaml"
    yaml = YAML()
    document = yaml.load(path.read_text(encoding="utf-8"))
    document["providers"][PROVIDER]["oauth"]["token_url"] = url
    with path.open("w", encoding="utf-8") as handle:
        yaml.dump(document, handle)
    credentials = workspace / "src" / "providers" / PROVIDER / "credentials.json"
    credentials.write_text(json.dumps({"client_secret": "a-web-secret"}))
    flow = AuthorizationFlow(load_config(path), PROVIDER)

    token = await flow.exchange("0.AXcode", "v" * 64)

    [form] = received
    assert form["client_id"] == CLIENT_ID
    assert form["code_verifier"] == "v" * 64
    assert "client_secret" not in form
    assert token["refresh_token"] == "0.AAAA-refresh"


@pytest.mark.parametrize(
    ("answers", "refusal"),
    [
        ({"tenant": "not a tenant"}, "tenant id"),
        ({"client_id": "1234"}, "GUID"),
    ],
)
def test_bad_answers_are_refused_and_nothing_is_written(workspace: Path, answers, refusal):
    before = (workspace / "provider-config.yaml").read_text()

    with pytest.raises(MultichatError, match=refusal):
        generate(workspace, **answers)

    assert (workspace / "provider-config.yaml").read_text() == before


def test_the_next_steps_mark_the_permissions_that_need_an_administrator(workspace: Path):
    steps = generate(workspace)

    marked = [line.split()[0] for line in steps.splitlines() if "ADMIN CONSENT" in line]
    assert marked == ["ChannelMessage.Read.All", "ChannelMessage.ReadWrite"]
    for needed in (
        "App registrations",
        "Public client/native (mobile & desktop)",
        "http://127.0.0.1/auth/callback",
        "under providers.teams.oauth",
        "Grant admin consent",
        "uv run multichat auth teams",
        'tenant "organizations"',
    ):
        assert needed in steps, needed
    assert all(scope in steps for scope in SCOPES)
