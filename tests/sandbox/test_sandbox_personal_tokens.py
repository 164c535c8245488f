"""Personal access tokens over real HTTP: the /settings/tokens page, the API, revocation, /admin."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from helpers import HtmlForm

from multichat.sandbox import (
    SANDBOX_CLIENT_ID,
    SANDBOX_PASSWORDS,
    SANDBOX_PERSONAL_TOKENS,
    SandboxServer,
    create_app,
)
from multichat.sandbox.scopes import ALL_SCOPES

TOKEN = re.compile(r'<code id="token">([^<]+)</code>')


@pytest.fixture
def client(sandbox: SandboxServer) -> Iterator[httpx2.Client]:
    with httpx2.Client(base_url=sandbox.url, timeout=10) as http:
        yield http


@pytest.fixture
def admin(sandbox: SandboxServer) -> Iterator[httpx2.Client]:
    headers = {"X-Sandbox-Admin": sandbox.admin_token}
    with httpx2.Client(base_url=sandbox.url, headers=headers, timeout=10) as http:
        yield http


def token_form(client: httpx2.Client) -> HtmlForm:
    page = client.get("/settings/tokens")
    assert page.status_code == 200, page.text
    return HtmlForm(page.text)


def post_form(
    client: httpx2.Client, form: HtmlForm, scopes: list[str] | None = None, **fields: str
) -> httpx2.Response:
    """Send the page's form as a browser would, with ``scopes`` ticked (default: as shown)."""
    if scopes is not None:
        form.checked["scope"] = scopes
    return client.post(form.action, data=form.data(**fields))


def make_token(
    client: httpx2.Client, username: str = "grace", scopes: list[str] | None = None, **fields: str
) -> str:
    page = post_form(
        client,
        token_form(client),
        scopes,
        username=username,
        password=SANDBOX_PASSWORDS[username],
        **fields,
    )
    assert page.status_code == 200, page.text
    found = TOKEN.search(page.text)
    assert found, page.text
    return found.group(1)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def error_of(page: httpx2.Response) -> str:
    found = re.search(r'<p class="error" id="error" role="alert">([^<]+)</p>', page.text)
    assert found, page.text
    return found.group(1)


def test_the_page_makes_a_token_that_works_on_the_api_with_its_scopes(client, sandbox):
    page = client.get("/settings/tokens")
    assert page.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"
    form = HtmlForm(page.text)
    assert (form.action, form.method) == ("/settings/tokens", "post")
    assert form.fields["csrf_token"]
    assert form.checked["scope"] == list(ALL_SCOPES)
    assert form.fields["expires_in"] == ""
    assert form.buttons == {"create": ""}

    made = post_form(
        client,
        form,
        ["chat:read"],
        username="grace",
        password=SANDBOX_PASSWORDS["grace"],
        note="my MCP server",
    )
    assert made.status_code == 200, made.text
    assert made.headers["cache-control"] == "no-store"
    assert "shown only this once" in made.text
    assert '<span id="expires">never</span>' in made.text
    token = TOKEN.search(made.text).group(1)  # type: ignore[union-attr]
    assert token.startswith("sbx_pat_")

    api = f"{sandbox.api_url}"
    assert client.get(f"{api}/me", headers=bearer(token)).json()["username"] == "grace"
    assert client.get(f"{api}/channels", headers=bearer(token)).status_code == 200
    for method, path in (("POST", "/channels/C01/messages"), ("GET", "/users")):
        refused = client.request(method, f"{api}{path}", headers=bearer(token), json={"text": "x"})
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "insufficient_scope"
    info = client.get("/oauth/userinfo", headers=bearer(token))
    assert info.json()["preferred_username"] == "grace"

    stored = {
        row[0] for row in sandbox.app.state.db.query("SELECT token_hash FROM personal_tokens")
    }
    assert hashlib.sha256(token.encode()).hexdigest() in stored
    assert token not in stored
    assert token not in client.get("/settings/tokens").text


def test_scopes_may_also_come_as_one_space_separated_field(client, sandbox):
    form = token_form(client)
    form.checked.clear()
    made = post_form(
        client,
        form,
        username="alan",
        password=SANDBOX_PASSWORDS["alan"],
        scope="users:read chat:read",
    )
    assert '<span id="scopes">users:read chat:read</span>' in made.text
    token = TOKEN.search(made.text).group(1)  # type: ignore[union-attr]
    assert client.get(f"{sandbox.api_url}/users", headers=bearer(token)).status_code == 200


@pytest.mark.parametrize(
    ("username", "password"),
    [("grace", "not her password"), ("nobody", "whatever"), ("grace", ""), ("", "")],
)
def test_a_wrong_password_or_unknown_user_makes_no_token(client, sandbox, username, password):
    before = sandbox.app.state.db.query("SELECT COUNT(*) FROM personal_tokens")[0][0]
    form = token_form(client)
    page = post_form(client, form, username=username, password=password, note="ci")
    assert page.status_code == 400
    assert error_of(page) == "Wrong username or password."
    again = HtmlForm(page.text)
    assert again.fields["username"] == username
    assert again.fields["password"] == ""
    assert again.fields["note"] == "ci"
    assert again.fields["csrf_token"] not in ("", form.fields["csrf_token"])
    assert TOKEN.search(page.text) is None
    assert sandbox.app.state.db.query("SELECT COUNT(*) FROM personal_tokens")[0][0] == before


@pytest.mark.parametrize(
    ("scopes", "fields", "message"),
    [
        ([], {}, "Choose at least one scope."),
        (["chat:read", "admin:all"], {}, "Unknown scope: admin:all."),
        (["chat:read"], {"expires_in": "soon"}, "Expires must be empty (never) or 1 to"),
        (["chat:read"], {"expires_in": "0"}, "Expires must be empty (never) or 1 to"),
        (["chat:read"], {"expires_in": "-60"}, "Expires must be empty (never) or 1 to"),
        (["chat:read"], {"note": "x" * 101}, "Keep the note under 100 characters."),
    ],
)
def test_the_form_says_what_is_wrong(client, scopes, fields, message):
    form = token_form(client)
    password = SANDBOX_PASSWORDS["grace"]
    page = post_form(client, form, scopes, username="grace", password=password, **fields)
    assert page.status_code == 400
    assert error_of(page).startswith(message)
    assert TOKEN.search(page.text) is None


def test_the_form_needs_its_csrf_token_once(client):
    form = token_form(client)
    password = SANDBOX_PASSWORDS["grace"]
    for csrf in ("", "forged"):
        page = post_form(client, form, username="grace", password=password, csrf_token=csrf)
        assert page.status_code == 400
        assert "expired or was already sent" in error_of(page)
        assert TOKEN.search(page.text) is None

    assert post_form(client, form, username="grace", password=password).status_code == 200
    replay = post_form(client, form, username="grace", password=password)
    assert replay.status_code == 400
    assert TOKEN.search(replay.text) is None


def test_a_token_with_a_lifetime_expires(client, sandbox):
    token = make_token(client, expires_in="3600")
    assert client.get(f"{sandbox.api_url}/me", headers=bearer(token)).status_code == 200
    with sandbox.app.state.db.transaction() as conn:
        conn.execute(
            "UPDATE personal_tokens SET expires_at = 0 WHERE token_hash = ?",
            (hashlib.sha256(token.encode()).hexdigest(),),
        )
    expired = client.get(f"{sandbox.api_url}/me", headers=bearer(token))
    assert expired.status_code == 401
    assert expired.json()["error"]["message"] == (
        "this personal access token has expired; make a new one at /settings/tokens"
    )


def test_the_seeded_tokens_work_with_every_scope(client, sandbox, admin):
    assert {"ada", "grace"} <= set(SANDBOX_PERSONAL_TOKENS)
    for username, token in SANDBOX_PERSONAL_TOKENS.items():
        me = client.get(f"{sandbox.api_url}/me", headers=bearer(token))
        assert me.status_code == 200, (username, me.text)
        assert me.json()["username"] == username
        assert client.get(f"{sandbox.api_url}/users", headers=bearer(token)).status_code == 200
    listed = admin.get("/admin/personal-tokens", params={"username": "ada"}).json()
    assert [(item["id"], item["scopes"], item["expires_at"]) for item in listed] == [
        ("pat_seeded_ada", list(ALL_SCOPES), None)
    ]


def test_a_revoked_token_gets_401_with_a_readable_error(client, sandbox):
    token = make_token(client)
    other = make_token(client)
    assert client.post("/oauth/revoke", data={"token": token}).status_code == 200
    revoke_as_client = {"token": other, "client_id": SANDBOX_CLIENT_ID}
    assert client.post("/oauth/revoke", data=revoke_as_client).status_code == 200

    for value in (token, other):
        refused = client.get(f"{sandbox.api_url}/me", headers=bearer(value))
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"].startswith("Bearer")
        assert refused.json()["error"] == {
            "code": "unauthorized",
            "message": "this personal access token was revoked; make a new one at /settings/tokens",
        }
        userinfo = client.get("/oauth/userinfo", headers=bearer(value))
        assert userinfo.status_code == 401
        assert userinfo.json()["error_description"].startswith("this personal access token was")


def test_the_admin_api_lists_and_revokes_personal_tokens(client, sandbox, admin):
    token = make_token(client, "margaret", note="admin test")
    listed = admin.get("/admin/personal-tokens", params={"username": "margaret"}).json()
    made = [item for item in listed if item["note"] == "admin test"]
    assert len(made) == 1
    assert token not in str(listed)
    assert made[0]["revoked"] is False

    revoked = admin.post(f"/admin/personal-tokens/{made[0]['id']}/revoke")
    assert revoked.status_code == 200
    assert revoked.json()["revoked"] is True
    assert client.get(f"{sandbox.api_url}/me", headers=bearer(token)).status_code == 401

    assert admin.post("/admin/personal-tokens/pat_nope/revoke").status_code == 404
    anonymous = client.get("/admin/personal-tokens")
    assert anonymous.status_code == 401


def test_the_admin_api_revokes_everything_a_user_holds(client, sandbox, admin):
    made = make_token(client, "katherine")
    password = {
        "grant_type": "password",
        "username": "katherine",
        "password": SANDBOX_PASSWORDS["katherine"],
        "client_id": SANDBOX_CLIENT_ID,
    }
    tokens = client.post("/oauth/token", data=password).json()
    held = [made, SANDBOX_PERSONAL_TOKENS["katherine"], tokens["access_token"]]
    for value in held:
        assert client.get(f"{sandbox.api_url}/me", headers=bearer(value)).status_code == 200

    answer = admin.post("/admin/users/katherine/revoke-tokens")
    assert answer.status_code == 200
    assert answer.json()["revoked"] >= 4  # two personal tokens, an access and a refresh token
    for value in held:
        assert client.get(f"{sandbox.api_url}/me", headers=bearer(value)).status_code == 401
    refresh = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    refused = client.post("/oauth/token", data={**refresh, "client_id": SANDBOX_CLIENT_ID})
    assert refused.json()["error"] == "invalid_grant"
    ada = client.get(f"{sandbox.api_url}/me", headers=bearer(SANDBOX_PERSONAL_TOKENS["ada"]))
    assert ada.status_code == 200
    assert admin.post("/admin/users/nobody/revoke-tokens").status_code == 404


def test_seeded_credentials_are_kept_across_restarts_of_one_database(tmp_path: Path):
    db_path = tmp_path / "sandbox.db"
    first = create_app(db_path)
    seeded = hashlib.sha256(SANDBOX_PERSONAL_TOKENS["ada"].encode()).hexdigest()
    with first.state.db.transaction() as conn:
        conn.execute("UPDATE personal_tokens SET revoked = 1 WHERE token_hash = ?", (seeded,))
    hashes = first.state.db.query("SELECT password_hash FROM user_passwords ORDER BY user_id")
    first.state.db.close()

    second = create_app(db_path)
    try:
        db = second.state.db
        revoked = db.query("SELECT revoked FROM personal_tokens WHERE token_hash = ?", (seeded,))
        assert [tuple(row) for row in revoked] == [(1,)]
        again = db.query("SELECT password_hash FROM user_passwords ORDER BY user_id")
        assert [tuple(row) for row in again] == [tuple(row) for row in hashes]
        assert len(hashes) == len(SANDBOX_PASSWORDS)
        for (stored,) in hashes:
            assert stored.startswith("scrypt$")
            assert not any(password in stored for password in SANDBOX_PASSWORDS.values())
    finally:
        second.state.db.close()
