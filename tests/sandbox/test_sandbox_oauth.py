"""The sandbox's OAuth 2.0 server over real HTTP: consent form, PKCE, codes, rotation, revoke."""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest
from helpers import HtmlForm

from multichat.sandbox import SANDBOX_CLIENT_ID, SandboxServer, register_client

REDIRECT = "http://127.0.0.1:53682/auth/callback"
ALL = "chat:read chat:write users:read"


@pytest.fixture
def client(sandbox: SandboxServer) -> Iterator[httpx2.Client]:
    with httpx2.Client(base_url=sandbox.url, timeout=10) as http:
        yield http


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).decode().rstrip("=")


def authorize_params(challenge: str | None, **changes: str | None) -> dict[str, str]:
    params: dict[str, str | None] = {
        "response_type": "code",
        "client_id": SANDBOX_CLIENT_ID,
        "redirect_uri": REDIRECT,
        "scope": ALL,
        "state": "state-123",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    params.update(changes)
    return {key: value for key, value in params.items() if value is not None}


def consent_form(client: httpx2.Client, params: dict[str, str]) -> HtmlForm:
    page = client.get("/oauth/authorize", params=params)
    assert page.status_code == 200, page.text
    return HtmlForm(page.text)


def query(location: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}


def submit(client: httpx2.Client, form: HtmlForm, decision: str = "allow") -> httpx2.Response:
    return client.post(form.action, data={**form.fields, "decision": decision})


def authorization_code(
    client: httpx2.Client, challenge: str, *, scope: str = ALL, redirect: str = REDIRECT
) -> str:
    form = consent_form(client, authorize_params(challenge, scope=scope, redirect_uri=redirect))
    response = submit(client, form)
    assert response.status_code == 302
    return query(response.headers["location"])["code"]


def exchange(
    client: httpx2.Client, code: str, verifier: str | None, redirect: str = REDIRECT
) -> httpx2.Response:
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect,
        "client_id": SANDBOX_CLIENT_ID,
    }
    if verifier is not None:
        data["code_verifier"] = verifier
    return client.post("/oauth/token", data=data)


def sign_in(client: httpx2.Client, scope: str = ALL) -> dict[str, str]:
    verifier, challenge = pkce()
    response = exchange(client, authorization_code(client, challenge, scope=scope), verifier)
    assert response.status_code == 200, response.text
    return response.json()


def refresh(client: httpx2.Client, refresh_token: str) -> httpx2.Response:
    return client.post(
        "/oauth/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": SANDBOX_CLIENT_ID,
        },
    )


def me(client: httpx2.Client, access_token: str) -> httpx2.Response:
    return client.get("/api/v1/me", headers={"Authorization": f"Bearer {access_token}"})


def test_code_flow_with_pkce_through_the_consent_form(client: httpx2.Client):
    verifier, challenge = pkce()
    page = client.get("/oauth/authorize", params=authorize_params(challenge))
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "multichat (sandbox)" in page.text
    assert "Ada Lovelace" in page.text
    assert "Send, edit and delete your messages" in page.text
    assert '<form method="post" action="/oauth/authorize">' in page.text
    assert '<button name="decision" value="allow" id="allow">Allow</button>' in page.text
    assert '<button name="decision" value="deny" id="deny">Deny</button>' in page.text
    form = HtmlForm(page.text)
    assert form.buttons == {"allow": "allow", "deny": "deny"}
    assert form.fields["client_id"] == SANDBOX_CLIENT_ID
    assert form.fields["code_challenge"] == challenge
    assert form.fields["csrf_token"]

    allowed = submit(client, form)
    assert allowed.status_code == 302
    location = allowed.headers["location"]
    assert location.startswith(REDIRECT + "?")
    params = query(location)
    assert params["state"] == "state-123"

    token = exchange(client, params["code"], verifier)
    assert token.status_code == 200
    assert token.headers["cache-control"] == "no-store"
    body = token.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["scope"] == ALL
    assert body["access_token"] != body["refresh_token"]

    assert me(client, body["access_token"]).json()["username"] == "ada"
    info = client.get(
        "/oauth/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"}
    ).json()
    assert info == {
        "sub": "U01",
        "id": "U01",
        "name": "Ada Lovelace",
        "email": "ada@sandbox.example",
        "username": "ada",
        "preferred_username": "ada",
    }


def test_deny_redirects_with_access_denied(client: httpx2.Client):
    _, challenge = pkce()
    denied = submit(client, consent_form(client, authorize_params(challenge)), "deny")
    assert denied.status_code == 302
    params = query(denied.headers["location"])
    assert params["error"] == "access_denied"
    assert params["error_description"]
    assert params["state"] == "state-123"
    assert "code" not in params


def test_pkce_is_required(client: httpx2.Client):
    verifier, challenge = pkce()
    for params in (
        authorize_params(None),
        authorize_params(challenge, code_challenge_method="plain"),
        authorize_params(challenge, code_challenge_method=None),
    ):
        page = client.get("/oauth/authorize", params=params)
        assert page.status_code == 400
        assert "location" not in page.headers
        assert "PKCE" in page.text

    missing = exchange(client, authorization_code(client, challenge), None)
    assert missing.status_code == 400
    assert missing.json()["error"] == "invalid_grant"

    wrong = exchange(client, authorization_code(client, challenge), pkce()[0])
    assert wrong.status_code == 400
    assert wrong.json() == {
        "error": "invalid_grant",
        "error_description": "code_verifier does not match the code_challenge",
    }

    assert exchange(client, authorization_code(client, challenge), verifier).status_code == 200


def test_a_code_is_single_use_and_a_replay_revokes_its_tokens(client: httpx2.Client):
    verifier, challenge = pkce()
    code = authorization_code(client, challenge)
    first = exchange(client, code, verifier)
    assert first.status_code == 200
    assert me(client, first.json()["access_token"]).status_code == 200

    replay = exchange(client, code, verifier)
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    assert me(client, first.json()["access_token"]).status_code == 401
    assert refresh(client, first.json()["refresh_token"]).json()["error"] == "invalid_grant"


def test_a_code_expires(client: httpx2.Client, sandbox: SandboxServer):
    settings = sandbox.app.state.settings
    verifier, challenge = pkce()
    settings.code_ttl = 0
    try:
        code = authorization_code(client, challenge)
    finally:
        settings.code_ttl = 60
    expired = exchange(client, code, verifier)
    assert expired.status_code == 400
    assert expired.json() == {
        "error": "invalid_grant",
        "error_description": "the authorization code has expired",
    }


def test_loopback_redirects_match_on_any_port(client: httpx2.Client):
    verifier, challenge = pkce()
    for redirect in ("http://127.0.0.1:9/auth/callback", "http://localhost:41234/auth/callback"):
        code = authorization_code(client, challenge, redirect=redirect)
        assert exchange(client, code, verifier, redirect).status_code == 200


@pytest.mark.parametrize(
    "redirect",
    [
        "http://evil.example/auth/callback",
        "https://127.0.0.1:8000/auth/callback",
        "http://127.0.0.1:8000/other",
        "http://127.0.0.1@evil.example:80/auth/callback",
        None,
    ],
)
def test_an_unregistered_redirect_shows_an_error_page(client: httpx2.Client, redirect):
    _, challenge = pkce()
    page = client.get("/oauth/authorize", params=authorize_params(challenge, redirect_uri=redirect))
    assert page.status_code == 400
    assert "location" not in page.headers
    assert "redirect_uri" in page.text
    assert "evil.example" not in page.headers.get("refresh", "")


def test_the_token_request_must_repeat_the_authorized_redirect(client: httpx2.Client):
    verifier, challenge = pkce()
    code = authorization_code(client, challenge)
    other = exchange(client, code, verifier, "http://127.0.0.1:1234/auth/callback")
    assert other.status_code == 400
    assert other.json()["error"] == "invalid_grant"


def test_untrusted_requests_get_an_error_page(client: httpx2.Client):
    _, challenge = pkce()
    for params in (
        authorize_params(challenge, client_id="nobody"),
        authorize_params(challenge, response_type="token"),
    ):
        page = client.get("/oauth/authorize", params=params)
        assert page.status_code == 400
        assert "location" not in page.headers


def test_unknown_scopes_redirect_with_invalid_scope(client: httpx2.Client):
    _, challenge = pkce()
    response = client.get(
        "/oauth/authorize", params=authorize_params(challenge, scope="chat:read admin:all")
    )
    assert response.status_code == 302
    params = query(response.headers["location"])
    assert params["error"] == "invalid_scope"
    assert "admin:all" in params["error_description"]
    assert params["state"] == "state-123"


def test_the_consent_post_needs_its_csrf_token_once(client: httpx2.Client):
    _, challenge = pkce()
    form = consent_form(client, authorize_params(challenge))
    without = {key: value for key, value in form.fields.items() if key != "csrf_token"}
    for fields in (without, {**without, "csrf_token": "forged"}):
        response = client.post("/oauth/authorize", data={**fields, "decision": "allow"})
        assert response.status_code == 400
        assert "location" not in response.headers

    assert submit(client, form).status_code == 302
    again = submit(client, form)
    assert again.status_code == 400
    assert "location" not in again.headers


def test_refresh_tokens_rotate(client: httpx2.Client):
    first = sign_in(client)
    second = refresh(client, first["refresh_token"])
    assert second.status_code == 200
    rotated = second.json()
    assert rotated["refresh_token"] != first["refresh_token"]
    assert rotated["access_token"] != first["access_token"]
    assert rotated["scope"] == ALL
    assert me(client, rotated["access_token"]).status_code == 200

    reuse = refresh(client, first["refresh_token"])
    assert reuse.status_code == 400
    assert reuse.json()["error"] == "invalid_grant"
    assert refresh(client, rotated["refresh_token"]).status_code == 200


def test_a_refresh_may_narrow_but_not_widen_the_scopes(client: httpx2.Client):
    narrow = sign_in(client, scope="chat:read")
    assert narrow["scope"] == "chat:read"
    wider = client.post(
        "/oauth/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": narrow["refresh_token"],
            "client_id": SANDBOX_CLIENT_ID,
            "scope": ALL,
        },
    )
    assert wider.json()["error"] == "invalid_scope"


def test_revocation(client: httpx2.Client):
    tokens = sign_in(client)
    revoked = client.post(
        "/oauth/revoke",
        data={"token": tokens["access_token"], "token_type_hint": "access_token"},
    )
    assert revoked.status_code == 200
    assert me(client, tokens["access_token"]).status_code == 401
    assert refresh(client, tokens["refresh_token"]).status_code == 200

    other = sign_in(client)
    assert client.post("/oauth/revoke", data={"token": other["refresh_token"]}).status_code == 200
    assert refresh(client, other["refresh_token"]).json()["error"] == "invalid_grant"
    assert me(client, other["access_token"]).status_code == 401

    assert client.post("/oauth/revoke", data={"token": "never-issued"}).status_code == 200


def test_token_errors_follow_rfc_6749(client: httpx2.Client):
    unsupported = client.post(
        "/oauth/token", data={"grant_type": "client_credentials", "client_id": SANDBOX_CLIENT_ID}
    )
    assert unsupported.status_code == 400
    assert unsupported.json()["error"] == "unsupported_grant_type"
    unknown = client.post("/oauth/token", data={"grant_type": "refresh_token", "client_id": "x"})
    assert unknown.status_code == 401
    assert unknown.json()["error"] == "invalid_client"


def test_confidential_clients_authenticate(client: httpx2.Client, sandbox: SandboxServer):
    register_client(
        sandbox.app.state.db,
        "confidential-app",
        "Confidential App",
        ["https://app.example/callback"],
        secret="s3cret",
        scopes=["chat:read"],
    )
    verifier, challenge = pkce()
    params = authorize_params(
        challenge,
        client_id="confidential-app",
        redirect_uri="https://app.example/callback",
        scope="chat:read",
    )
    form = consent_form(client, params)
    code = query(submit(client, form).headers["location"])["code"]
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": "https://app.example/callback",
        "code_verifier": verifier,
    }
    wrong = client.post("/oauth/token", data=data, auth=("confidential-app", "nope"))
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "invalid_client"
    assert "www-authenticate" in wrong.headers
    form = consent_form(client, params)
    data["code"] = query(submit(client, form).headers["location"])["code"]
    good = client.post("/oauth/token", data=data, auth=("confidential-app", "s3cret"))
    assert good.status_code == 200, good.text
    assert good.json()["scope"] == "chat:read"


def test_the_token_lifetime_is_a_knob(client: httpx2.Client, sandbox: SandboxServer):
    settings = sandbox.app.state.settings
    settings.token_ttl = 0
    try:
        tokens = sign_in(client)
    finally:
        settings.token_ttl = 3600
    assert tokens["expires_in"] == 0
    expired = me(client, tokens["access_token"])
    assert expired.status_code == 401
    assert expired.headers["www-authenticate"].startswith("Bearer")
    assert refresh(client, tokens["refresh_token"]).json()["expires_in"] == 3600


def test_only_hashes_of_tokens_are_stored(client: httpx2.Client, sandbox: SandboxServer):
    tokens = sign_in(client)
    stored = {row[0] for row in sandbox.app.state.db.query("SELECT token_hash FROM oauth_tokens")}
    for value in (tokens["access_token"], tokens["refresh_token"]):
        assert value not in stored
        assert hashlib.sha256(value.encode()).hexdigest() in stored


def test_login_hint_signs_in_another_seeded_user(client: httpx2.Client):
    verifier, challenge = pkce()
    form = consent_form(client, authorize_params(challenge, login_hint="grace"))
    assert form.fields["login_hint"] == "grace"
    code = query(submit(client, form).headers["location"])["code"]
    token = exchange(client, code, verifier).json()["access_token"]
    assert me(client, token).json()["username"] == "grace"


def test_metadata_names_the_endpoints(client: httpx2.Client, sandbox: SandboxServer):
    metadata = client.get("/.well-known/oauth-authorization-server").json()
    assert metadata["authorization_endpoint"] == f"{sandbox.url}/oauth/authorize"
    assert metadata["code_challenge_methods_supported"] == ["S256"]
