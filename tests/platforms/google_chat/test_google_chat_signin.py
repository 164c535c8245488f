"""What the google_chat preset's config makes of sign-in: Google's endpoints and parameters,
and the client from credentials.json in Google's own format (the file the Cloud console
downloads, and the seed project's), checked through the runtime's authorization flow.

``multichat auth`` itself is the runtime's (and tested there); these tests only read the
preset's config through it: the authorize URL, and the form the token endpoint receives.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from google_chat_support import PROVIDER
from helpers import free_port
from ruamel.yaml import YAML

from multichat.errors import MultichatError
from multichat.runtime.config import load_config
from multichat.runtime.oauth import AuthorizationFlow, load_client_credentials
from multichat.sandbox.server import SandboxServer

CLIENT_ID = "1234567890-abcdefghijklmnop.apps.googleusercontent.com"
SECRET = "GOCSPX-test-secret"
# The "installed" file of a Desktop app client, as the console downloads it
# (https://developers.google.com/identity/protocols/oauth2/native-app, "client_secret.json";
# https://github.com/googleapis/google-auth-library-python-oauthlib, client secrets format).
INSTALLED = {
    "installed": {
        "client_id": CLIENT_ID,
        "project_id": "multichat-test",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": "https://oauth2.googleapis.com/token",
        "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
        "client_secret": SECRET,
        "redirect_uris": ["http://localhost"],
    }
}
# The "web" file the seed project told its users to download (its README, "Select Web
# application as the application type"; siva010928/multi-chat-mcp-server).
WEB = {"web": {**INSTALLED["installed"], "redirect_uris": ["http://localhost:8000/auth/callback"]}}
SCOPES = [
    "openid",
    "email",
    "profile",
    "https://www.googleapis.com/auth/chat.spaces.readonly",
    "https://www.googleapis.com/auth/chat.messages",
    "https://www.googleapis.com/auth/chat.memberships.readonly",
    "https://www.googleapis.com/auth/chat.users.readstate",
]


@pytest.fixture
def generated(workspace: Path) -> Path:
    """``new provider gchat --preset google_chat`` with defaults, on a free port."""
    from multichat.generator.provider import add_provider

    add_provider(
        PROVIDER,
        config_path=workspace / "provider-config.yaml",
        preset="google_chat",
        data={"port": free_port()},
    )
    return workspace


def save_credentials(workspace: Path, content: dict[str, Any]) -> None:
    path = workspace / "src" / "providers" / PROVIDER / "credentials.json"
    path.write_text(json.dumps(content))
    path.chmod(0o600)


def test_the_authorize_url_is_googles_with_pkce_offline_and_consent(generated: Path):
    save_credentials(generated, INSTALLED)
    config = load_config(generated / "provider-config.yaml")
    port = config.provider(PROVIDER).port

    url = urlsplit(AuthorizationFlow(config, PROVIDER).authorization_url())

    query = {key: values[0] for key, values in parse_qs(url.query).items()}
    assert (url.scheme, url.netloc, url.path) == (
        "https",
        "accounts.google.com",
        "/o/oauth2/v2/auth",
    )
    assert query["client_id"] == CLIENT_ID
    assert query["redirect_uri"] == f"http://127.0.0.1:{port}/auth/callback"
    assert query["response_type"] == "code"
    assert query["scope"].split() == SCOPES
    assert query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43
    assert (query["access_type"], query["prompt"]) == ("offline", "consent")
    assert "client_secret" not in query


@pytest.mark.parametrize("content", [INSTALLED, WEB], ids=["desktop app", "seed's web client"])
def test_googles_credentials_json_gives_the_client_id_and_secret(generated: Path, content):
    save_credentials(generated, content)

    client = load_client_credentials(load_config(generated / "provider-config.yaml"), PROVIDER)

    assert (client.client_id, client.client_secret) == (CLIENT_ID, SECRET)
    assert SECRET not in repr(client)


@pytest.fixture
def token_endpoint() -> Iterator[tuple[str, list[dict[str, str]]]]:
    """A token endpoint on 127.0.0.1 that records each form and answers as Google does
    (https://developers.google.com/identity/protocols/oauth2/native-app#exchange-authorization-code)."""
    received: list[dict[str, str]] = []
    app = FastAPI()

    @app.post("/token")
    async def token(request: Request) -> JSONResponse:
        form = await request.form()
        received.append({key: str(value) for key, value in form.items()})
        return JSONResponse(
            {
                "access_token": "ya29.fresh",
                "expires_in": 3599,
                "refresh_token": "1//refresh",
                "scope": " ".join(SCOPES),
                "token_type": "Bearer",
            }
        )

    with SandboxServer(app=app) as server:
        yield f"{server.url}/token", received


def set_token_url(workspace: Path, url: str) -> None:
    path = workspace / "provider-config.yaml"
    yaml = YAML()
    document = yaml.load(path.read_text(encoding="utf-8"))
    document["providers"][PROVIDER]["oauth"]["token_url"] = url
    with path.open("w", encoding="utf-8") as handle:
        yaml.dump(document, handle)


async def test_the_code_exchange_sends_the_secret_from_credentials_json_and_the_verifier(
    generated: Path, token_endpoint
):
    url, received = token_endpoint
    save_credentials(generated, INSTALLED)
    set_token_url(generated, url)
    flow = AuthorizationFlow(load_config(generated / "provider-config.yaml"), PROVIDER)

    token = await flow.exchange("4/0Acode", "v" * 64)

    [form] = received
    assert form["grant_type"] == "authorization_code"
    assert form["code"] == "4/0Acode"
    assert form["code_verifier"] == "v" * 64
    assert (form["client_id"], form["client_secret"]) == (CLIENT_ID, SECRET)
    assert form["redirect_uri"] == flow.settings.redirect_uri
    assert token["refresh_token"] == "1//refresh"


def test_a_client_id_answer_goes_in_the_config_and_the_secret_may_come_from_the_environment(
    workspace: Path, monkeypatch
):
    from multichat.generator.provider import add_provider

    created = add_provider(
        PROVIDER,
        config_path=workspace / "provider-config.yaml",
        preset="google_chat",
        data={"port": free_port(), "client_id": CLIENT_ID},
    )
    config = load_config(workspace / "provider-config.yaml")
    without_secret = load_client_credentials(config, PROVIDER)
    monkeypatch.setenv(f"MULTICHAT_{PROVIDER.upper()}_CLIENT_SECRET", SECRET)
    with_secret = load_client_credentials(config, PROVIDER)

    assert config.provider(PROVIDER).oauth.client_id == CLIENT_ID
    assert (without_secret.client_id, without_secret.client_secret) == (CLIENT_ID, None)
    assert with_secret.client_secret == SECRET
    assert f"MULTICHAT_{PROVIDER.upper()}_CLIENT_SECRET" in created.next_steps


def test_a_client_id_that_is_not_googles_is_refused_and_nothing_is_written(workspace: Path):
    from multichat.generator.provider import add_provider

    before = (workspace / "provider-config.yaml").read_text()
    with pytest.raises(MultichatError, match="googleusercontent"):
        add_provider(
            PROVIDER,
            config_path=workspace / "provider-config.yaml",
            preset="google_chat",
            data={"client_id": "not-a-google-id"},
        )

    assert (workspace / "provider-config.yaml").read_text() == before
    assert not (workspace / "src" / "providers" / PROVIDER).exists()


def test_the_next_steps_walk_through_the_cloud_console(generated: Path):
    from multichat.generator.provider import add_provider

    steps = add_provider(
        "gchat_two", config_path=generated / "provider-config.yaml", preset="google_chat"
    ).next_steps

    for needed in (
        "console.cloud.google.com/apis/library/chat.googleapis.com",
        "hangouts-chat",
        "Desktop app",
        "src/providers/gchat_two/credentials.json",
        "expire after 7 days",
        "uv run multichat auth gchat_two",
        *SCOPES,
    ):
        assert needed in steps, needed
