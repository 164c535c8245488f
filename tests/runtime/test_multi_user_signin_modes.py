"""Each person's sign-in link on a team server when the platform has no OAuth code flow.

A pasted token, a password (the provider's ``exchange_password`` hook) and a device code
(RFC 8628), against the sandbox: the link opens a form (or the device code), and what the
person types signs in only them. The OAuth link is tested in test_multi_user.py.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from fastmcp.exceptions import ToolError
from helpers import HtmlForm, add_password_hooks, free_port, generated_workspace, set_provider_keys
from team_server import ALICE, CAROL, Team, link_pattern, serving_team

from multichat.runtime.users import user_token_path
from multichat.sandbox import SANDBOX_PASSWORDS, SANDBOX_PERSONAL_TOKENS, SandboxServer

PROVIDER = "chat"
LINK = link_pattern(PROVIDER)
BOUND = 30.0


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    """The sandbox, polling device codes without its five-second interval."""
    with SandboxServer(device_interval=0) as server:
        yield server


@pytest.fixture(scope="module")
def workspace_base(sandbox: SandboxServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A sandbox-preset workspace with the password hooks a platform like Matrix supplies."""
    folder = generated_workspace(
        tmp_path_factory.mktemp("team-modes") / "ws",
        PROVIDER,
        "sandbox",
        {"platform_url": sandbox.url, "port": free_port()},
    )
    add_password_hooks(folder, PROVIDER)
    return folder


@pytest.fixture
def team_in(workspace_base: Path, sandbox: SandboxServer) -> Iterator[Any]:
    """``team_in(mode)``: the workspace served to people, its provider signing in by ``mode``."""
    serving: list[Any] = []

    def serve(mode: str) -> Team:
        set_provider_keys(workspace_base, PROVIDER, auth={"mode": mode, "whoami": "me"})
        context = serving_team(workspace_base, PROVIDER, {})
        serving.append(context)
        return context.__enter__()

    yield serve
    for context in serving:
        context.__exit__(None, None, None)


async def link_for(team: Team, person: Any) -> str:
    """The link in the error of a first call by ``person``, who has no token yet."""
    async with team.client(person) as client:
        with pytest.raises(ToolError) as refused:
            await client.call_tool(f"{PROVIDER}_whoami", {})
    found = LINK.search(str(refused.value))
    assert found is not None, str(refused.value)
    return found.group(0)


async def whoami(team: Team, person: Any) -> str:
    async with team.client(person) as client:
        result = await client.call_tool(f"{PROVIDER}_whoami", {})
    return str(result.structured_content["id"])  # type: ignore[index]


def post_form(browser: httpx2.Client, page: httpx2.Response, **values: str) -> httpx2.Response:
    """Fill the page's form as a person would, and send it to where it posts."""
    form = HtmlForm(page.text)
    assert form.method == "post"
    return browser.post(str(page.url), data={**form.fields, **values})


async def test_a_pasted_token_signs_in_only_that_person(
    team_in: Any, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.DEBUG)
    team = team_in("token")
    link = await link_for(team, CAROL)
    token = SANDBOX_PERSONAL_TOKENS["alan"]
    with httpx2.Client(timeout=BOUND) as browser:
        page = browser.get(link)
        assert page.status_code == 200, page.text
        assert page.headers["cache-control"] == "no-store"
        assert page.headers["referrer-policy"] == "no-referrer"
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        assert set(HtmlForm(page.text).fields) == {"form_id", "token"}

        wrong = post_form(browser, page, token="sbx_pat_not_a_token")
        assert wrong.status_code == 400
        assert "chat: the platform rejected the token" in wrong.text
        assert "/signin/" not in wrong.text  # the reason, not a link to where the person is
        assert "sbx_pat_not_a_token" not in wrong.text
        assert not user_token_path(team.workspace, CAROL, PROVIDER).exists()

        signed = post_form(browser, wrong, token=token)  # the form again, with a new id
        assert signed.status_code == 200, signed.text
        assert "Signed in" in signed.text
        # The form's id was used up with it.
        assert post_form(browser, wrong, token=token).status_code == 400

    assert await whoami(team, CAROL) == "U03"
    saved = json.loads(user_token_path(team.workspace, CAROL, PROVIDER).read_text())
    assert saved["mode"] == "token"
    assert user_token_path(team.workspace, CAROL, PROVIDER).stat().st_mode & 0o777 == 0o600
    with pytest.raises(ToolError, match="/signin/chat"):
        await whoami(team, ALICE)  # Carol's token is hers alone
    assert token not in caplog.text
    assert any("signed in user=carol" in r.getMessage() for r in caplog.records)


async def test_a_form_sent_from_another_browser_saves_nothing(team_in: Any):
    team = team_in("token")
    link = await link_for(team, CAROL)
    with httpx2.Client(timeout=BOUND) as victim, httpx2.Client(timeout=BOUND) as attacker:
        page = victim.get(link)
        form = HtmlForm(page.text)
        answer = attacker.post(
            str(page.url), data={**form.fields, "token": SANDBOX_PERSONAL_TOKENS["alan"]}
        )
    assert answer.status_code == 400
    assert "another browser" in answer.text
    assert not user_token_path(team.workspace, CAROL, PROVIDER).exists()


async def test_a_password_is_exchanged_by_the_providers_hook_for_that_person(team_in: Any):
    team = team_in("password")
    link = await link_for(team, CAROL)
    password = SANDBOX_PASSWORDS["alan"]
    with httpx2.Client(timeout=BOUND) as browser:
        page = browser.get(link)
        assert page.status_code == 200, page.text
        assert set(HtmlForm(page.text).fields) == {"form_id", "username", "password"}
        wrong = post_form(browser, page, username="alan", password="not-his-password")
        assert wrong.status_code == 400
        assert "wrong username or password" in wrong.text
        assert HtmlForm(wrong.text).fields["username"] == "alan"  # kept; the password is not
        assert HtmlForm(wrong.text).fields["password"] == ""
        signed = post_form(browser, wrong, username="alan", password=password)
        assert signed.status_code == 200, signed.text
    assert await whoami(team, CAROL) == "U03"
    stored = user_token_path(team.workspace, CAROL, PROVIDER).read_text()
    assert json.loads(stored)["mode"] == "password"
    assert password not in stored


async def test_a_device_code_signs_in_the_person_once_they_allow_it(
    team_in: Any, sandbox: SandboxServer
):
    team = team_in("device")
    link = await link_for(team, CAROL)
    with httpx2.Client(timeout=BOUND) as browser:
        page = browser.get(link)
    assert page.status_code == 200, page.text
    assert page.headers["cache-control"] == "no-store"
    code = page.text.split("font-family: monospace'>", 1)[1].split("<", 1)[0]
    assert f"{sandbox.url}/device" in page.text
    admin = {"X-Sandbox-Admin": sandbox.admin_token}
    allowed = httpx2.post(
        f"{sandbox.url}/admin/device-codes/{code}/approve",
        json={"username": "alan"},
        headers=admin,
        timeout=BOUND,
    )
    assert allowed.status_code == 200, allowed.text

    token_file = user_token_path(team.workspace, CAROL, PROVIDER)
    deadline = time.monotonic() + BOUND
    while not token_file.exists() and time.monotonic() < deadline:
        time.sleep(0.1)  # the server polls the sandbox in the background
    assert token_file.exists(), "the device sign-in did not finish"
    assert json.loads(token_file.read_text())["mode"] == "device"
    assert await whoami(team, CAROL) == "U03"


async def test_a_denied_device_code_saves_nothing_and_says_so_in_the_log(
    team_in: Any, sandbox: SandboxServer, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.INFO, logger="multichat.audit")
    team = team_in("device")
    link = await link_for(team, CAROL)
    with httpx2.Client(timeout=BOUND) as browser:
        page = browser.get(link)
    code = page.text.split("font-family: monospace'>", 1)[1].split("<", 1)[0]
    admin = {"X-Sandbox-Admin": sandbox.admin_token}
    denied = httpx2.post(
        f"{sandbox.url}/admin/device-codes/{code}/deny", headers=admin, timeout=BOUND
    )
    assert denied.status_code == 200, denied.text
    deadline = time.monotonic() + BOUND
    while time.monotonic() < deadline and not any(
        "sign-in failed user=carol" in r.getMessage() for r in caplog.records
    ):
        time.sleep(0.1)
    assert any("OAuthFailed" in r.getMessage() for r in caplog.records), caplog.text
    assert not user_token_path(team.workspace, CAROL, PROVIDER).exists()


async def test_a_link_gives_a_few_tries_then_asks_for_a_new_one(team_in: Any):
    from multichat.runtime.user_signin import MAX_FORM_TRIES

    team = team_in("token")
    link = await link_for(team, CAROL)
    with httpx2.Client(timeout=BOUND) as browser:
        page = browser.get(link)
        for _ in range(MAX_FORM_TRIES - 1):
            page = post_form(browser, page, token="sbx_pat_not_a_token")
            assert HtmlForm(page.text).fields.get("form_id"), page.text
        last = post_form(browser, page, token="sbx_pat_not_a_token")
    assert last.status_code == 400
    assert "Call the tool again for a new link" in last.text
    assert "<form" not in last.text


async def test_a_mode_that_cannot_check_what_is_typed_gets_no_link(workspace_base: Path):
    set_provider_keys(workspace_base, PROVIDER, auth={"mode": "token"})  # no who-am-I call
    with serving_team(workspace_base, PROVIDER, {}) as unchecked:
        async with unchecked.client(CAROL) as client:
            with pytest.raises(ToolError) as refused:
                await client.call_tool(f"{PROVIDER}_whoami", {})
    assert "cannot offer a sign-in link for it; ask its administrator" in str(refused.value)
    assert LINK.search(str(refused.value)) is None


def test_a_device_sign_in_still_waiting_does_not_outlive_its_event_loop(workspace_base: Path):
    """Stopping the server cancels its tasks (asyncio.run does, as anyio.run does); the
    poll's worker thread must end with it, not when the code expires ten minutes later."""
    import asyncio
    import threading

    from fastmcp import FastMCP

    from multichat.runtime import load_config
    from multichat.runtime.loader import activate_workspace
    from multichat.runtime.user_signin import UserSignIn

    set_provider_keys(workspace_base, PROVIDER, auth={"mode": "device", "whoami": "me"})
    config = load_config(workspace_base / "provider-config.yaml")
    activate_workspace(config)
    pages: list[int] = []

    async def serve_one_device_sign_in() -> None:
        server: FastMCP[Any] = FastMCP("t")
        signin = UserSignIn(config, "http://127.0.0.1:9")
        signin.install(server)
        link = signin.link(PROVIDER, CAROL)
        assert link is not None
        transport = httpx2.ASGITransport(app=server.http_app())
        async with httpx2.AsyncClient(transport=transport, base_url="http://127.0.0.1:9") as web:
            pages.append((await web.get(link)).status_code)
        deadline = time.monotonic() + BOUND
        while not polling() and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert polling(), "the device sign-in should be waiting for Carol"

    loop_thread = threading.Thread(target=asyncio.run, args=(serve_one_device_sign_in(),))
    loop_thread.start()
    loop_thread.join(timeout=BOUND)
    assert pages == [200]
    assert not loop_thread.is_alive(), "the loop could not stop: it waits for the poll"
    deadline = time.monotonic() + 10
    while polling() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not polling(), "a worker thread still polls for a loop that stopped"


def polling() -> bool:
    """Whether some thread of this process is inside the device flow's poll."""
    import sys

    for frame in sys._current_frames().values():
        while frame is not None:
            if frame.f_code.co_name == "poll_for_token":
                return True
            frame = frame.f_back  # type: ignore[assignment]
    return False


async def test_a_password_hook_that_crashes_is_one_page_and_one_log_line_without_the_password(
    workspace_base: Path, caplog: pytest.LogCaptureFixture
):
    auth_module = workspace_base / "src" / "providers" / PROVIDER / "api" / "auth.py"
    original = auth_module.read_text()
    auth_module.write_text(
        original
        + "\n\ndef exchange_password(username: str, password: str) -> dict[str, Any]:\n"
        + "    raise ValueError(f'cannot use {password}')\n"
    )
    set_provider_keys(workspace_base, PROVIDER, auth={"mode": "password", "whoami": "me"})
    caplog.set_level(logging.INFO)
    forget_provider_modules()  # an earlier test imported the working hooks
    try:
        with serving_team(workspace_base, PROVIDER, {}) as team:
            link = await link_for(team, CAROL)
            with httpx2.Client(timeout=BOUND) as browser:
                page = browser.get(link)
                answer = post_form(browser, page, username="alan", password="hunter2-secret")
    finally:
        auth_module.write_text(original)
        forget_provider_modules()
    assert answer.status_code == 500
    assert "(ValueError); ask its administrator" in answer.text
    assert "hunter2-secret" not in answer.text + caplog.text
    assert "Traceback" not in caplog.text
    assert any("the provider's code raised ValueError" in r.getMessage() for r in caplog.records)


def forget_provider_modules() -> None:
    """Drop the workspace's provider modules, so that the next server imports them afresh."""
    import sys

    for name in [name for name in sys.modules if name.startswith("src.providers")]:
        del sys.modules[name]
