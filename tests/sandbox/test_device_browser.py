"""The sandbox's ``/device`` verification page in real headless Chromium (RFC 8628 §3.3).

The device's side (device authorization, polling) is plain HTTP; the person's side is clicked:
type the user code, sign in, Allow or Deny. The ``browser`` and ``page`` fixtures are in
``tests/sandbox/conftest.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest

from multichat.sandbox import (
    SANDBOX_CLIENT_ID,
    SANDBOX_CLIENT_NAME,
    SANDBOX_PASSWORDS,
    SandboxServer,
)

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"  # RFC 8628 §3.4


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    """A sandbox whose devices may poll without waiting."""
    with SandboxServer(seed=False, device_interval=0) as server:
        yield server


@pytest.fixture
def client(sandbox: SandboxServer) -> Iterator[httpx2.Client]:
    with httpx2.Client(base_url=sandbox.url, timeout=10) as http:
        yield http


def start(client: httpx2.Client) -> dict[str, Any]:
    answer = client.post("/oauth/device_authorization", data={"client_id": SANDBOX_CLIENT_ID})
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def poll(client: httpx2.Client, flow: dict[str, Any]) -> httpx2.Response:
    data = {"grant_type": DEVICE_GRANT, "device_code": flow["device_code"]}
    return client.post("/oauth/token", data={**data, "client_id": SANDBOX_CLIENT_ID})


def sign_in(page: Any, username: str, password: str) -> None:
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#sign-in")


def test_typing_the_code_signing_in_and_allowing_in_chromium_gives_the_device_tokens(
    page, client, sandbox
):
    flow = start(client)
    page.goto(flow["verification_uri"])
    page.fill("#user_code", flow["user_code"].lower())
    page.click("#continue")
    page.wait_for_selector("#user-code")
    assert page.inner_text("#user-code") == flow["user_code"]
    assert page.inner_text("#app-name") == SANDBOX_CLIENT_NAME

    sign_in(page, "ada", "not her password")
    page.wait_for_selector("#error")
    assert page.inner_text("#error") == "Wrong username or password."
    assert page.input_value("#username") == "ada"
    assert page.input_value("#password") == ""
    assert poll(client, flow).json()["error"] == "authorization_pending"

    sign_in(page, "ada", SANDBOX_PASSWORDS["ada"])
    page.wait_for_selector("#allow")
    assert page.inner_text("#user-name") == "Ada Lovelace"
    assert flow["user_code"] in page.inner_text("body")
    ARTIFACTS.mkdir(exist_ok=True)
    screenshot = ARTIFACTS / "device-page.png"
    page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.stat().st_size > 1000

    page.click("#allow")
    page.wait_for_selector("#result")
    assert page.inner_text("#result") == "Device connected"

    tokens = poll(client, flow)
    assert tokens.status_code == 200, tokens.text
    me = client.get(
        f"{sandbox.api_url}/me",
        headers={"Authorization": f"Bearer {tokens.json()['access_token']}"},
    )
    assert me.json()["username"] == "ada"
    assert poll(client, flow).json()["error"] == "invalid_grant"


def test_denying_in_chromium_gives_the_device_access_denied(page, client):
    flow = start(client)
    page.goto(flow["verification_uri_complete"])
    sign_in(page, "grace", SANDBOX_PASSWORDS["grace"])
    page.click("#deny")
    page.wait_for_selector("#result")
    assert page.inner_text("#result") == "Access denied"
    answer = poll(client, flow)
    assert answer.status_code == 400
    assert answer.json()["error"] == "access_denied"


def test_chromium_refuses_to_show_the_device_page_in_a_frame(page, client):
    flow = start(client)
    # Another origin (about:blank) framing the sign-in form, as a clickjacker would; set_content
    # returns after the load event, which waits for the frame.
    page.set_content(f'<iframe src="{flow["verification_uri_complete"]}"></iframe>')
    frame = page.query_selector("iframe").content_frame()
    assert frame is not None
    assert frame.url.startswith("chrome-error://"), frame.url
    assert frame.query_selector("#sign-in") is None
    assert poll(client, flow).json()["error"] == "authorization_pending"
