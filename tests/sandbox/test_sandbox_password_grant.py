"""The resource owner password grant (RFC 6749 §4.3) and the metadata, over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata

from multichat.sandbox import (
    SANDBOX_CLIENT_ID,
    SANDBOX_PASSWORDS,
    SANDBOX_PERSONAL_TOKENS,
    SandboxServer,
    register_client,
)
from multichat.sandbox.accounts import set_password

ALL = "chat:read chat:write users:read"


@pytest.fixture
def client(sandbox: SandboxServer) -> Iterator[httpx2.Client]:
    with httpx2.Client(base_url=sandbox.url, timeout=10) as http:
        yield http


def password_grant(client: httpx2.Client, username: str, password: str, **extra: str):
    data = {
        "grant_type": "password",
        "username": username,
        "password": password,
        "client_id": SANDBOX_CLIENT_ID,
        **extra,
    }
    return client.post("/oauth/token", data=data)


def refresh(client: httpx2.Client, refresh_token: str) -> httpx2.Response:
    data = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    return client.post("/oauth/token", data={**data, "client_id": SANDBOX_CLIENT_ID})


def me(client: httpx2.Client, access_token: str) -> httpx2.Response:
    return client.get("/api/v1/me", headers={"Authorization": f"Bearer {access_token}"})


def test_a_password_gives_an_access_and_a_refresh_token(client):
    answer = password_grant(client, "ada", SANDBOX_PASSWORDS["ada"])
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    body = answer.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "refresh_token", "scope"}
    assert body["token_type"] == "Bearer"
    assert body["scope"] == ALL
    assert body["access_token"] != body["refresh_token"]
    assert me(client, body["access_token"]).json()["username"] == "ada"


def test_every_seeded_person_signs_in_with_their_documented_password(client):
    assert {"ada", "grace"} <= set(SANDBOX_PASSWORDS)
    for username, password in SANDBOX_PASSWORDS.items():
        answer = password_grant(client, username, password, scope="users:read")
        assert answer.status_code == 200, (username, answer.text)
        assert me(client, answer.json()["access_token"]).json()["username"] == username


def test_the_username_is_matched_like_a_handle(client):
    for typed in ("Grace", " grace ", "@grace"):
        answer = password_grant(client, typed, SANDBOX_PASSWORDS["grace"], scope="chat:read")
        assert me(client, answer.json()["access_token"]).json()["username"] == "grace"


def test_the_scope_may_narrow_the_grant(client):
    body = password_grant(client, "ada", SANDBOX_PASSWORDS["ada"], scope="chat:read").json()
    assert body["scope"] == "chat:read"
    post = client.post(
        "/api/v1/channels/C01/messages",
        json={"text": "hi"},
        headers={"Authorization": f"Bearer {body['access_token']}"},
    )
    assert post.status_code == 403


@pytest.mark.parametrize(
    ("username", "password"),
    [
        ("ada", "wrong"),
        ("ada", SANDBOX_PASSWORDS["grace"]),
        ("nobody", "wrong"),
        ("deploybot", "x"),
    ],
)
def test_a_wrong_password_and_an_unknown_user_get_the_same_readable_invalid_grant(
    client, username, password
):
    answer = password_grant(client, username, password)
    assert answer.status_code == 400
    assert answer.headers["cache-control"] == "no-store"
    assert answer.json() == {
        "error": "invalid_grant",
        "error_description": "wrong username or password",
    }


@pytest.mark.parametrize("missing", ["username", "password"])
def test_username_and_password_are_required(client, missing):
    data = {
        "grant_type": "password",
        "username": "ada",
        "password": SANDBOX_PASSWORDS["ada"],
        "client_id": SANDBOX_CLIENT_ID,
    }
    del data[missing]
    answer = client.post("/oauth/token", data=data)
    assert answer.status_code == 400
    assert answer.json() == {
        "error": "invalid_request",
        "error_description": "username and password are required",
    }


def test_an_unknown_scope_or_client_is_refused(client):
    scope = password_grant(client, "ada", SANDBOX_PASSWORDS["ada"], scope="chat:read admin:all")
    assert scope.status_code == 400
    assert scope.json()["error"] == "invalid_scope"
    assert "admin:all" in scope.json()["error_description"]
    unknown = password_grant(client, "ada", SANDBOX_PASSWORDS["ada"], client_id="nobody")
    assert unknown.status_code == 401
    assert unknown.json()["error"] == "invalid_client"


def test_a_confidential_client_must_authenticate(client, sandbox):
    register_client(
        sandbox.app.state.db, "backend", "Backend", ["https://app.example/cb"], secret="s3cret"
    )
    data = {"grant_type": "password", "username": "ada", "password": SANDBOX_PASSWORDS["ada"]}
    without = client.post("/oauth/token", data={**data, "client_id": "backend"})
    assert without.status_code == 401
    assert without.json()["error"] == "invalid_client"
    with_secret = client.post("/oauth/token", data=data, auth=("backend", "s3cret"))
    assert with_secret.status_code == 200, with_secret.text


def test_refresh_tokens_from_a_password_rotate(client):
    first = password_grant(client, "grace", SANDBOX_PASSWORDS["grace"]).json()
    second = refresh(client, first["refresh_token"])
    assert second.status_code == 200
    rotated = second.json()
    assert rotated["refresh_token"] != first["refresh_token"]
    assert rotated["scope"] == ALL
    assert me(client, rotated["access_token"]).json()["username"] == "grace"

    reuse = refresh(client, first["refresh_token"])
    assert reuse.status_code == 400
    assert reuse.json()["error"] == "invalid_grant"
    assert refresh(client, rotated["refresh_token"]).status_code == 200


def test_a_new_password_replaces_the_old_one(client, sandbox):
    assert set_password(sandbox.app.state.db, "dennis", "a new password")
    assert password_grant(client, "dennis", SANDBOX_PASSWORDS["dennis"]).status_code == 400
    assert password_grant(client, "dennis", "a new password").status_code == 200
    assert not set_password(sandbox.app.state.db, "nobody", "x")


def test_the_metadata_lists_every_grant_and_the_device_endpoint(client, sandbox):
    metadata = client.get("/.well-known/oauth-authorization-server").json()
    assert metadata["grant_types_supported"] == [
        "authorization_code",
        "refresh_token",
        "password",
        "urn:ietf:params:oauth:grant-type:device_code",
    ]
    assert metadata["device_authorization_endpoint"] == (
        f"{sandbox.url}/oauth/device_authorization"
    )
    assert metadata["token_endpoint"] == f"{sandbox.url}/oauth/token"
    assert metadata["issuer"] == sandbox.url
    assert client.get("/.well-known/openid-configuration").json() == metadata
    AuthorizationServerMetadata(metadata).validate()  # what authlib's discovery checks

    index = client.get("/").json()
    assert index["device_url"] == f"{sandbox.url}/device"
    assert index["personal_tokens_url"] == f"{sandbox.url}/settings/tokens"
    assert index["device_authorization_url"] == metadata["device_authorization_endpoint"]


def test_the_seeded_credentials_are_the_ones_docs_cli_md_describes():
    docs = (Path(__file__).resolve().parents[2] / "docs" / "cli.md").read_text()
    assert "`<username>-sandbox-password`" in docs
    assert "`sbx_pat_seeded_<username>`" in docs
    for name, password in SANDBOX_PASSWORDS.items():
        assert password == f"{name}-sandbox-password"
    assert ", ".join(SANDBOX_PASSWORDS) in " ".join(docs.split())
    for name, token in SANDBOX_PERSONAL_TOKENS.items():
        assert token == f"sbx_pat_seeded_{name}"
    assert set(SANDBOX_PERSONAL_TOKENS) == {*SANDBOX_PASSWORDS, "deploybot"}
