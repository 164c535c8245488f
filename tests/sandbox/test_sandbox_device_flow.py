"""The device authorization grant (RFC 8628) over real HTTP: codes, polling, /device, /admin.

The ``/device`` pages are walked here as plain form posts; ``test_device_browser.py`` clicks
them in Chromium.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
from helpers import HtmlForm

from multichat.sandbox import SANDBOX_CLIENT_ID, SANDBOX_PASSWORDS, SandboxServer, register_client
from multichat.sandbox.settings import SandboxSettings

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"  # RFC 8628 §3.4
USER_CODE = re.compile(r"^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$")
ALL = "chat:read chat:write users:read"


@pytest.fixture
def client(sandbox: SandboxServer) -> Iterator[httpx2.Client]:
    with httpx2.Client(base_url=sandbox.url, timeout=10) as http:
        yield http


@pytest.fixture
def settings(sandbox: SandboxServer) -> Iterator[SandboxSettings]:
    """The sandbox's knobs, with polling allowed at any pace; put back after the test."""
    knobs: SandboxSettings = sandbox.app.state.settings
    saved = (knobs.device_code_ttl, knobs.device_interval)
    knobs.device_interval = 0
    yield knobs
    knobs.device_code_ttl, knobs.device_interval = saved


@pytest.fixture
def admin(sandbox: SandboxServer) -> Iterator[httpx2.Client]:
    headers = {"X-Sandbox-Admin": sandbox.admin_token}
    with httpx2.Client(base_url=sandbox.url, headers=headers, timeout=10) as http:
        yield http


def start(client: httpx2.Client, **data: str) -> dict[str, Any]:
    answer = client.post(
        "/oauth/device_authorization", data={"client_id": SANDBOX_CLIENT_ID, **data}
    )
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def poll(client: httpx2.Client, device_code: str, client_id: str = SANDBOX_CLIENT_ID):
    data = {"grant_type": DEVICE_GRANT, "device_code": device_code, "client_id": client_id}
    return client.post("/oauth/token", data=data)


def error(answer: httpx2.Response) -> str:
    assert answer.status_code == 400, answer.text
    return str(answer.json()["error"])


def post(client: httpx2.Client, form: HtmlForm, **changes: str) -> httpx2.Response:
    assert form.method == "post"
    return client.post(form.action, data=form.data(**changes))


def sign_in_page(client: httpx2.Client, flow: dict[str, Any]) -> HtmlForm:
    page = client.get(flow["verification_uri_complete"])
    assert page.status_code == 200, page.text
    return HtmlForm(page.text)


def consent(client: httpx2.Client, flow: dict[str, Any], username: str = "grace") -> HtmlForm:
    form = sign_in_page(client, flow)
    page = post(client, form, username=username, password=SANDBOX_PASSWORDS[username])
    assert page.status_code == 200, page.text
    return HtmlForm(page.text)


def decide(client: httpx2.Client, flow: dict[str, Any], decision: str, username: str = "grace"):
    return post(client, consent(client, flow, username), decision=decision)


def test_a_device_authorization_answers_the_rfc_8628_fields(client, sandbox):
    answer = client.post("/oauth/device_authorization", data={"client_id": SANDBOX_CLIENT_ID})
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "no-store"
    flow = answer.json()
    assert set(flow) == {
        "device_code",
        "user_code",
        "verification_uri",
        "verification_uri_complete",
        "expires_in",
        "interval",
    }
    assert USER_CODE.match(flow["user_code"]), flow["user_code"]
    assert flow["verification_uri"] == f"{sandbox.url}/device"
    assert flow["verification_uri_complete"] == (
        f"{sandbox.url}/device?user_code={flow['user_code']}"
    )
    assert (flow["expires_in"], flow["interval"]) == (600, 5)
    assert flow["device_code"].startswith("sbx_dc_")
    assert start(client)["user_code"] != flow["user_code"]


def test_polling_says_pending_then_slow_down_and_the_interval_grows(client, settings):
    settings.device_interval = 60  # far longer than two requests take
    flow = start(client)
    assert flow["interval"] == 60
    pending = poll(client, flow["device_code"])
    assert error(pending) == "authorization_pending"
    assert pending.headers["cache-control"] == "no-store"
    assert pending.json()["error_description"]

    first = poll(client, flow["device_code"])
    assert error(first) == "slow_down"
    assert first.json()["error_description"] == (
        "polling too fast: wait 65 seconds between requests"
    )
    second = poll(client, flow["device_code"])
    assert second.json()["error_description"] == (
        "polling too fast: wait 70 seconds between requests"
    )


def test_allowed_on_the_device_page_gives_tokens_once(client, sandbox, settings):
    flow = start(client, scope="chat:read users:read")
    assert error(poll(client, flow["device_code"])) == "authorization_pending"

    done = decide(client, flow, "allow")
    assert done.status_code == 200
    assert '<h1 id="result">Device connected</h1>' in done.text

    tokens = poll(client, flow["device_code"])
    assert tokens.status_code == 200, tokens.text
    assert tokens.headers["cache-control"] == "no-store"
    body = tokens.json()
    assert body["scope"] == "chat:read users:read"
    assert body["refresh_token"]
    me = client.get(
        f"{sandbox.api_url}/me", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert me.json()["username"] == "grace"

    again = poll(client, flow["device_code"])
    assert error(again) == "invalid_grant"
    assert again.json()["error_description"] == "the device code was already used"
    rotated = client.post(
        "/oauth/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": body["refresh_token"],
            "client_id": SANDBOX_CLIENT_ID,
        },
    )
    assert rotated.status_code == 200
    assert rotated.json()["refresh_token"] != body["refresh_token"]


def test_denied_on_the_device_page_answers_access_denied(client, settings):
    flow = start(client)
    done = decide(client, flow, "deny")
    assert done.status_code == 200
    assert '<h1 id="result">Access denied</h1>' in done.text
    for _ in range(2):
        denied = poll(client, flow["device_code"])
        assert error(denied) == "access_denied"
        assert denied.json()["error_description"] == "the user denied access"


def test_an_expired_device_code_answers_expired_token(client, settings):
    settings.device_code_ttl = 0
    flow = start(client)
    assert flow["expires_in"] == 0
    expired = poll(client, flow["device_code"])
    assert error(expired) == "expired_token"
    assert expired.json()["error_description"] == "the device code has expired; start again"
    page = client.get(flow["verification_uri_complete"])
    assert page.status_code == 400
    assert "not valid, or it has expired" in page.text


def test_the_code_is_typed_on_the_device_page_in_any_case(client, settings):
    page = client.get("/device")
    assert page.status_code == 200
    entry = HtmlForm(page.text)
    assert (entry.action, entry.method) == ("/device", "get")
    assert "user_code" in entry.fields
    assert entry.buttons == {"continue": ""}

    flow = start(client)
    typed = flow["user_code"].replace("-", " ").lower()
    signed_out = client.get("/device", params={"user_code": typed})
    assert signed_out.status_code == 200
    assert f'<span class="code" id="user-code">{flow["user_code"]}</span>' in signed_out.text
    form = HtmlForm(signed_out.text)
    assert form.action == "/device/sign-in"
    assert set(form.fields) == {"csrf_token", "username", "password"}

    for wrong in ("BCDF-GHJ", "AEIO-UAEI", "nonsense"):
        refused = client.get("/device", params={"user_code": wrong})
        assert refused.status_code == 400
        assert HtmlForm(refused.text).fields["user_code"] == wrong


@pytest.mark.parametrize(("username", "password"), [("grace", "wrong"), ("nobody", "x")])
def test_a_wrong_password_on_the_device_page_asks_again(client, settings, username, password):
    flow = start(client)
    form = sign_in_page(client, flow)
    page = post(client, form, username=username, password=password)
    assert page.status_code == 400
    assert "Wrong username or password." in page.text
    again = HtmlForm(page.text)
    assert again.fields["username"] == username
    assert again.fields["password"] == ""
    assert again.fields["csrf_token"] not in ("", form.fields["csrf_token"])
    assert error(poll(client, flow["device_code"])) == "authorization_pending"

    allowed = post(client, again, username="grace", password=SANDBOX_PASSWORDS["grace"])
    assert allowed.status_code == 200
    assert post(client, HtmlForm(allowed.text), decision="allow").status_code == 200
    assert poll(client, flow["device_code"]).status_code == 200


def test_the_device_forms_need_their_own_csrf_token_once(client, settings):
    flow = start(client)
    form = sign_in_page(client, flow)
    password = SANDBOX_PASSWORDS["grace"]
    for csrf in ("", "forged"):
        page = post(client, form, username="grace", password=password, csrf_token=csrf)
        assert page.status_code == 400
        assert "This form has expired" in page.text

    decision = HtmlForm(post(client, form, username="grace", password=password).text)
    replay = post(client, form, username="grace", password=password)
    assert replay.status_code == 400
    # A decision's token does not open the sign-in step, nor a sign-in token the decision step.
    crossed = client.post("/device/sign-in", data={**decision.fields, "username": "grace"})
    assert crossed.status_code == 400
    assert error(poll(client, flow["device_code"])) == "authorization_pending"
    assert post(client, decision, decision="maybe").status_code == 400
    assert "Device connected" in post(client, decision, decision="allow").text
    assert post(client, decision, decision="allow").status_code == 400


def test_a_decided_code_no_longer_opens_the_page(client, settings):
    flow = start(client)
    stale = consent(client, flow)
    assert decide(client, flow, "allow").status_code == 200
    page = client.get(flow["verification_uri_complete"])
    assert page.status_code == 400
    late = post(client, stale, decision="deny")
    assert late.status_code == 400
    assert "no longer valid" in late.text
    assert poll(client, flow["device_code"]).status_code == 200


def test_the_device_pages_cannot_be_framed_nor_cached(client, settings):
    flow = start(client)
    pages = [client.get("/device"), client.get(flow["verification_uri_complete"])]
    form = HtmlForm(pages[-1].text)
    pages.append(post(client, form, username="grace", password=SANDBOX_PASSWORDS["grace"]))
    for page in pages:
        assert page.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        assert page.headers["cache-control"] == "no-store"


def test_bad_device_requests_follow_rfc_6749_errors(client, sandbox, settings):
    unknown_client = client.post("/oauth/device_authorization", data={"client_id": "nobody"})
    assert unknown_client.status_code == 401
    assert unknown_client.json()["error"] == "invalid_client"
    bad_scope = client.post(
        "/oauth/device_authorization", data={"client_id": SANDBOX_CLIENT_ID, "scope": "admin:all"}
    )
    assert error(bad_scope) == "invalid_scope"

    missing = client.post(
        "/oauth/token", data={"grant_type": DEVICE_GRANT, "client_id": SANDBOX_CLIENT_ID}
    )
    assert error(missing) == "invalid_request"
    assert error(poll(client, "sbx_dc_never-issued")) == "invalid_grant"

    register_client(sandbox.app.state.db, "other-device", "Other", [], scopes=["chat:read"])
    flow = start(client)
    assert error(poll(client, flow["device_code"], "other-device")) == "invalid_grant"
    narrow = client.post(
        "/oauth/device_authorization", data={"client_id": "other-device", "scope": ALL}
    )
    assert error(narrow) == "invalid_scope"


def test_the_admin_api_approves_denies_and_expires_device_codes(client, admin, settings):
    approved = start(client)
    answer = admin.post(
        f"/admin/device-codes/{approved['user_code']}/approve", json={"username": "alan"}
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "user_code": approved["user_code"],
        "status": "approved",
        "expired": False,
    }
    tokens = poll(client, approved["device_code"]).json()
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.json()["username"] == "alan"
    again = admin.post(f"/admin/device-codes/{approved['user_code']}/approve")
    assert again.status_code == 400
    assert again.json()["error"]["code"] == "invalid_request"

    denied = start(client)
    lowercase = denied["user_code"].lower()
    assert admin.post(f"/admin/device-codes/{lowercase}/deny").json()["status"] == "denied"
    assert error(poll(client, denied["device_code"])) == "access_denied"

    expired = start(client)
    answer = admin.post(f"/admin/device-codes/{expired['user_code']}/expire")
    assert answer.json() == {
        "user_code": expired["user_code"],
        "status": "pending",
        "expired": True,
    }
    assert error(poll(client, expired["device_code"])) == "expired_token"
    assert client.get(expired["verification_uri_complete"]).status_code == 400

    assert admin.post("/admin/device-codes/BCDF-GHJK/expire").status_code == 404
    nobody = admin.post(
        f"/admin/device-codes/{start(client)['user_code']}/approve", json={"username": "nobody"}
    )
    assert nobody.status_code == 404
    assert client.post(f"/admin/device-codes/{expired['user_code']}/deny").status_code == 401
