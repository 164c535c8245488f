"""Every sign-in mode end to end against the sandbox, through ``multichat auth`` (issue 13):
a personal access token, a password exchanged by the provider's hook (and refreshed by it),
a device code entered on the sandbox's page in headless Chromium, and a revoked token. And
``--status``, which asks the platform whether the stored token still works.
"""

from __future__ import annotations

import gc
import json
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx2
import pytest
from helpers import (
    MULTICHAT,
    LinePump,
    add_password_hooks,
    clean_env,
    free_port,
    set_provider_keys,
)

from multichat.errors import EXIT_UNCHECKED
from multichat.generator.provider import add_provider
from multichat.runtime import load_config, provider_auth
from multichat.runtime.loader import activate_workspace
from multichat.runtime.token_access import reset_provider_auth
from multichat.sandbox import (
    SANDBOX_CLIENT_ID,
    SANDBOX_PASSWORDS,
    SANDBOX_PERSONAL_TOKENS,
    SandboxServer,
)

PROVIDER = "chat"
BOUND = 60.0


@pytest.fixture(scope="module")
def sandbox() -> Any:
    with SandboxServer(device_interval=0) as server:
        yield server


@pytest.fixture
def ws(workspace: Path, sandbox: SandboxServer) -> Path:
    add_provider(
        PROVIDER,
        config_path=workspace / "provider-config.yaml",
        preset="sandbox",
        data={"platform_url": sandbox.url, "port": free_port()},
    )
    return workspace


def token_file(ws: Path) -> Path:
    return ws / "src" / "providers" / PROVIDER / "token.json"


def auth(ws: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [MULTICHAT, "auth", PROVIDER, *args],
        cwd=ws,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=BOUND,
        env=clean_env(),
        check=False,
    )


def test_a_personal_access_token(ws: Path):
    set_provider_keys(ws, PROVIDER, auth={"mode": "token", "whoami": "me"})
    signed = auth(ws, stdin=SANDBOX_PERSONAL_TOKENS["ada"])
    assert signed.returncode == 0, signed.stderr
    assert "signed in to chat as Ada Lovelace" in signed.stdout
    assert json.loads(token_file(ws).read_text())["mode"] == "token"

    wrong = auth(ws, stdin="sbx_pat_not_a_token")
    assert wrong.returncode == 1
    assert "the platform rejected the token" in wrong.stderr
    assert "sbx_pat_not_a_token" not in wrong.stderr


def test_a_password_through_the_providers_hook_then_refreshed_once(ws: Path):
    add_password_hooks(ws, PROVIDER)
    set_provider_keys(ws, PROVIDER, auth={"mode": "password", "whoami": "me"})

    refused = auth(ws, "--username", "ada", "--password-stdin", stdin="not-her-password\n")
    assert refused.returncode == 1
    assert "wrong username or password" in refused.stderr
    assert not token_file(ws).exists()

    password = SANDBOX_PASSWORDS["ada"]
    signed = auth(ws, "--username", "ada", "--password-stdin", stdin=password + "\n")
    assert signed.returncode == 0, signed.stderr
    saved = json.loads(token_file(ws).read_text())
    assert saved["mode"] == "password"
    assert saved["refresh_token"]
    assert password not in token_file(ws).read_text() + signed.stdout + signed.stderr

    # Expired: 40 threads ask at once, the provider's refresh hook runs once.
    saved["expires_at"] = 1
    token_file(ws).write_text(json.dumps(saved))
    config = load_config(ws / "provider-config.yaml")
    activate_workspace(config)
    reset_provider_auth()
    got: list[str] = []
    threads = [
        threading.Thread(
            target=lambda: got.append(provider_auth(PROVIDER).get_credentials().access_token)
        )
        for _ in range(40)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=BOUND)
    from src.providers.chat.api import auth as hooks  # type: ignore[import-not-found]

    assert len(hooks.REFRESHES) == 1
    assert len(set(got)) == 1
    assert got[0] != saved["access_token"]
    stored = json.loads(token_file(ws).read_text())
    assert stored["mode"] == "password"  # kept across the refresh
    assert stored["user"]["username"] == "ada"


def test_no_reference_to_the_password_is_kept(ws: Path, sandbox: SandboxServer):
    """After the exchange nothing holds the password: its reference count is back where it was.

    (A leak into a list or an object's attributes raises the count; checked by hand with a
    module-level list appended to in the hook.)
    """
    from multichat.runtime.sign_in import sign_in_with_password

    add_password_hooks(ws, PROVIDER)
    set_provider_keys(ws, PROVIDER, auth={"mode": "password", "whoami": "me"})
    config = load_config(ws / "provider-config.yaml")
    password = "".join(list(SANDBOX_PASSWORDS["ada"]))  # a string object of this test's own
    before = sys.getrefcount(password)

    signed = sign_in_with_password(config, PROVIDER, "ada", password)
    gc.collect()

    assert signed.user["username"] == "ada"
    assert sys.getrefcount(password) == before


async def test_a_revoked_token_is_one_line_naming_the_fix(ws: Path, sandbox: SandboxServer):
    set_provider_keys(ws, PROVIDER, auth={"mode": "token", "whoami": "me"})
    assert auth(ws, stdin=SANDBOX_PERSONAL_TOKENS["grace"]).returncode == 0
    accepted = auth(ws, "--status")
    assert accepted.returncode == 0, accepted
    assert (
        accepted.stdout.splitlines()[0] == "chat: signed in as Grace Hopper (sign-in mode: token)"
    )
    admin = {"X-Sandbox-Admin": sandbox.admin_token}
    revoked = httpx2.post(f"{sandbox.url}/admin/users/grace/revoke-tokens", headers=admin)
    assert revoked.status_code < 300, revoked.text

    status = auth(ws, "--status")  # the file is still there, but the platform says no
    assert status.returncode == 1, status
    assert status.stdout.count("\n") == 1, status.stdout
    assert status.stdout.startswith("chat is not authenticated (the platform rejected the token")
    assert "revoked" in status.stdout
    assert status.stdout.rstrip().endswith(
        f"run `multichat auth {PROVIDER}` (it asks for the token; or pipe it in with --with-token)"
    )
    assert SANDBOX_PERSONAL_TOKENS["grace"] not in status.stdout + status.stderr

    from fastmcp import Client
    from fastmcp.client.transports import StdioTransport
    from fastmcp.exceptions import ToolError

    transport = StdioTransport(command=MULTICHAT, args=["run"], cwd=str(ws), env=clean_env())
    async with Client(transport, timeout=BOUND) as client:
        with pytest.raises(ToolError) as caught:
            await client.call_tool(f"{PROVIDER}_whoami", {})
    message = str(caught.value)
    assert "\n" not in message
    assert f"run `multichat auth {PROVIDER}` (it asks for the token" in message
    assert "revoked" in message


async def test_a_token_no_header_can_carry_is_refused_in_one_line(ws: Path):
    set_provider_keys(ws, PROVIDER, auth={"mode": "token", "whoami": "me"})
    seeded = SANDBOX_PERSONAL_TOKENS["ada"]

    quoted = auth(ws, "--with-token", stdin=f"\u201c{seeded}\u201d\n")
    assert quoted.returncode == 2, quoted
    assert quoted.stderr.splitlines() == [
        "multichat: error: chat: the token from stdin has '\u201c' (U+201C LEFT DOUBLE QUOTATION "
        "MARK) at position 1, which an HTTP header cannot carry: give the token alone, without "
        "quotes or spaces"
    ]
    assert not token_file(ws).exists()

    accented = seeded.replace("e", "\u00e9", 1)
    env = clean_env(MULTICHAT_CHAT_TOKEN=accented)
    status = subprocess.run(
        [MULTICHAT, "auth", PROVIDER, "--status"],
        cwd=ws, capture_output=True, text=True, timeout=BOUND, env=env, check=False,
    )  # fmt: skip
    assert status.returncode == 2, status
    line = status.stderr.strip()
    assert "\n" not in line
    assert "MULTICHAT_CHAT_TOKEN has '\u00e9' (U+00E9 LATIN SMALL LETTER E WITH ACUTE)" in line
    assert accented not in line

    from fastmcp import Client
    from fastmcp.client.transports import StdioTransport
    from fastmcp.exceptions import ToolError

    def serving(token: str) -> Client[StdioTransport]:
        transport = StdioTransport(
            command=MULTICHAT,
            args=["run"],
            cwd=str(ws),
            env=clean_env(MULTICHAT_CHAT_TOKEN=token),
        )
        return Client(transport, timeout=BOUND)

    async with serving(f"{seeded}\n") as client:  # a trailing newline is dropped
        me = await client.call_tool(f"{PROVIDER}_whoami", {})
    assert "Ada Lovelace" in str(me.content)
    async with serving(accented) as client:
        with pytest.raises(ToolError) as caught:
            await client.call_tool(f"{PROVIDER}_whoami", {})
    assert str(caught.value) == line.removeprefix("multichat: error: ")


async def test_a_hand_edited_token_file_no_header_can_carry_is_one_line(ws: Path):
    from fastmcp import Client
    from fastmcp.client.transports import StdioTransport
    from fastmcp.exceptions import ToolError

    set_provider_keys(ws, PROVIDER, auth={"mode": "token", "whoami": "me"})
    seeded = SANDBOX_PERSONAL_TOKENS["ada"]
    hand_edited = {
        f"\u201c{seeded}\u201d": "'\u201c' (U+201C LEFT DOUBLE QUOTATION MARK) at position 1",
        f"{seeded}\n": f"U+000A (a control character) at position {len(seeded) + 1}",
    }

    def write(token: str) -> str:
        token_file(ws).write_text(json.dumps({"access_token": token}, ensure_ascii=False))
        return token

    transport = StdioTransport(command=MULTICHAT, args=["run"], cwd=str(ws), env=clean_env())
    async with Client(transport, timeout=BOUND) as client:
        for token, shown in hand_edited.items():
            expected = (
                f"chat: the token from {token_file(ws)} has {shown}, which an HTTP header cannot "
                "carry: give the token alone, without quotes or spaces"
            )
            write(token)
            with pytest.raises(ToolError) as caught:
                await client.call_tool(f"{PROVIDER}_whoami", {})
            assert str(caught.value) == expected

            status = auth(ws, "--status")
            assert status.returncode == 2, status
            assert status.stderr.splitlines() == [f"multichat: error: {expected}"]
            assert seeded not in status.stdout + status.stderr

        write(seeded)  # mended by hand: the next call reads the file again
        me = await client.call_tool(f"{PROVIDER}_whoami", {})
    assert "Ada Lovelace" in str(me.content)


# Async tests stay above: the module-scoped Chromium page below keeps an event loop running.
def test_a_device_code_entered_on_the_page_in_chromium(ws: Path, sandbox: SandboxServer, page):
    # The preset's own oauth block: it names the device authorization endpoint.
    set_provider_keys(ws, PROVIDER, auth={"mode": "device", "whoami": "me"})
    process = subprocess.Popen(
        [MULTICHAT, "auth", PROVIDER],
        cwd=ws,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_env(),
    )
    out, err = LinePump(process.stdout), LinePump(process.stderr)
    try:
        import time

        line = err.next_line(time.monotonic() + BOUND)
        assert line is not None, "".join(err.seen)
        found = re.search(r"open (\S+) and enter the code (\S+)", line)
        assert found is not None, line
        page.goto(found[1])
        page.fill("#user_code", found[2])
        page.click("#continue")
        page.fill("#username", "ada")
        page.fill("#password", SANDBOX_PASSWORDS["ada"])
        page.click("#sign-in")
        page.click("#allow")
        process.wait(timeout=BOUND)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
    assert process.returncode == 0, "".join(err.seen)
    assert "signed in to chat as Ada Lovelace" in out.join(10)
    assert json.loads(token_file(ws).read_text())["mode"] == "device"


def password_grant(url: str, user: str = "ada") -> dict[str, Any]:
    """Tokens for ``user`` from the sandbox's OAuth password grant, as a token file holds them."""
    form = {
        "grant_type": "password",
        "username": user,
        "password": SANDBOX_PASSWORDS[user],
        "client_id": SANDBOX_CLIENT_ID,
        "scope": "chat:read chat:write users:read",
    }
    answer = httpx2.post(f"{url}/oauth/token", data=form, timeout=BOUND)
    assert answer.status_code == 200, answer.text
    return {**answer.json(), "mode": "oauth"}


def test_logout_with_the_platform_down_keeps_the_token(workspace: Path, tmp_path: Path):
    """Unreachable revocation: the token stays live there, so the file stays here (exit 1)."""
    port = free_port()
    platform = SandboxServer(tmp_path / "sandbox.db", port=port)
    add_provider(
        PROVIDER,
        config_path=workspace / "provider-config.yaml",
        preset="sandbox",
        data={"platform_url": f"http://127.0.0.1:{port}", "port": free_port()},
    )
    with platform:
        token = password_grant(platform.url)
    token_file(workspace).write_text(json.dumps(token))
    before = token_file(workspace).read_bytes()

    down = auth(workspace, "--logout")

    assert down.returncode == 1, down
    assert down.stdout == ""
    assert down.stderr.count("\n") == 1, down.stderr
    assert "could not reach the revocation endpoint" in down.stderr
    assert f"kept {token_file(workspace)}" in down.stderr
    assert "delete that file by hand" in down.stderr
    assert token["access_token"] not in down.stderr
    assert token_file(workspace).read_bytes() == before

    with SandboxServer(tmp_path / "sandbox.db", port=port) as platform:
        up = auth(workspace, "--logout")
        assert up.returncode == 0, up.stderr
        assert "revoked the access token" in up.stdout
        assert not token_file(workspace).exists()
        me = httpx2.get(
            f"{platform.api_url}/me",
            headers={"Authorization": f"Bearer {token['access_token']}"},
            timeout=BOUND,
        )
        assert me.status_code == 401


def test_token_and_credentials_files_that_are_not_utf8_are_one_line(ws: Path):
    token_file(ws).write_bytes(b"\xff\xfe{}")
    for args in (("--status",), ("--logout",)):
        answer = auth(ws, *args)
        assert answer.returncode == 1, answer
        assert "Traceback" not in answer.stderr
        assert f"token file {token_file(ws)} is not valid JSON" in answer.stdout + answer.stderr
        assert token_file(ws).read_bytes() == b"\xff\xfe{}"
    doctor = subprocess.run(
        [MULTICHAT, "doctor"],
        cwd=ws,
        capture_output=True,
        text=True,
        timeout=BOUND,
        env=clean_env(),
    )
    assert "Traceback" not in doctor.stderr
    assert "is not valid JSON" in doctor.stdout + doctor.stderr

    token_file(ws).unlink()
    credentials = ws / "src" / "providers" / PROVIDER / "credentials.json"
    credentials.write_bytes(b"\xff\xfe{}")
    signing_in = auth(ws, "--no-browser", "--timeout", "3")
    assert signing_in.returncode == 2, signing_in
    assert signing_in.stderr.splitlines() == [
        f"multichat: error: {credentials} is not a readable JSON file: it is not UTF-8 text"
    ]


def test_a_token_dir_that_is_a_file_is_one_line(ws: Path, tmp_path: Path):
    set_provider_keys(ws, PROVIDER, auth={"mode": "token", "whoami": "me"})
    not_a_folder = tmp_path / "tokens"
    not_a_folder.write_text("hi\n")
    answer = subprocess.run(
        [MULTICHAT, "auth", PROVIDER, "--with-token"],
        cwd=ws, input=SANDBOX_PERSONAL_TOKENS["ada"], capture_output=True, text=True,
        timeout=BOUND, env=clean_env(MULTICHAT_TOKEN_DIR=str(not_a_folder)), check=False,
    )  # fmt: skip
    assert answer.returncode == 2, answer
    assert answer.stderr.splitlines() == [
        f"multichat: error: MULTICHAT_TOKEN_DIR is {not_a_folder}, which is not a folder: point "
        "it at a folder (it is created if missing), or unset it to keep each token at its "
        "token_path"
    ]
    assert not_a_folder.read_text() == "hi\n"
    assert not token_file(ws).exists()


def test_status_renews_an_expired_access_token_and_says_so(ws: Path, sandbox: SandboxServer):
    token = {**password_grant(sandbox.url, "alan"), "expires_at": 1000}
    token_file(ws).write_text(json.dumps(token))

    status = auth(ws, "--status")

    assert status.returncode == 0, status
    lines = status.stdout.splitlines()
    assert lines[0] == "chat: signed in as Alan Turing (sign-in mode: oauth)"
    assert "  renewed: the access token had expired; the refresh token renewed it" in lines
    renewed = json.loads(token_file(ws).read_text())
    assert renewed["access_token"] != token["access_token"]
    assert renewed["expires_at"] > time.time()
    for secret in (token["access_token"], token["refresh_token"], renewed["access_token"]):
        assert secret not in status.stdout + status.stderr


def test_status_of_an_expired_token_with_no_refresh_token_names_the_fix(ws: Path, sandbox):
    token = {**password_grant(sandbox.url, "dennis"), "expires_at": 1000}
    del token["refresh_token"]
    token_file(ws).write_text(json.dumps(token))

    status = auth(ws, "--status")

    assert status.returncode == 1, status
    lines = status.stdout.splitlines()
    assert lines[0] == "chat: not signed in (sign-in mode: oauth)"
    assert "  expired: 1970-01-01T00:16:40+00:00" in lines
    assert (
        "  problem: chat is not authenticated (the access token expired and there is no refresh "
        "token to renew it): run `multichat auth chat`"
    ) in lines
    assert token["access_token"] not in status.stdout + status.stderr


def test_status_with_the_platform_down_says_the_token_was_not_checked(
    workspace: Path, tmp_path: Path
):
    port = free_port()
    add_provider(
        PROVIDER,
        config_path=workspace / "provider-config.yaml",
        preset="sandbox",
        data={"platform_url": f"http://127.0.0.1:{port}", "port": free_port()},
    )
    set_provider_keys(workspace, PROVIDER, auth={"mode": "token", "whoami": "me"})
    token = SANDBOX_PERSONAL_TOKENS["margaret"]
    with SandboxServer(tmp_path / "sandbox.db", port=port):
        assert auth(workspace, stdin=token).returncode == 0

    down = auth(workspace, "--status")
    as_json = auth(workspace, "--status", "--json")

    assert down.returncode == EXIT_UNCHECKED, down
    assert down.stdout.count("\n") == 1, down.stdout
    assert down.stdout.startswith(
        "chat: a token is stored, but the platform could not check it: GET me still failed "
    )
    assert "could not connect" in down.stdout
    assert as_json.returncode == EXIT_UNCHECKED
    report = json.loads(as_json.stdout)
    assert (report["authenticated"], report["check"]) == (None, "unreachable")
    for answer in (down, as_json):
        assert token not in answer.stdout + answer.stderr
    with SandboxServer(tmp_path / "sandbox.db", port=port):
        up = auth(workspace, "--status")
    assert up.returncode == 0, up
    assert up.stdout.startswith("chat: signed in as Margaret Hamilton (sign-in mode: token)\n")


def test_a_token_saved_to_redis_is_said_to_be_in_redis(ws: Path, redis_url: str):
    set_provider_keys(ws, PROVIDER, auth={"mode": "token", "whoami": "me"})
    signed = subprocess.run(
        [MULTICHAT, "auth", PROVIDER, "--with-token"],
        cwd=ws,
        input=SANDBOX_PERSONAL_TOKENS["ada"],
        capture_output=True,
        text=True,
        timeout=BOUND,
        env=clean_env(MULTICHAT_REDIS_URL=redis_url),
        check=False,
    )

    assert signed.returncode == 0, signed.stderr
    key = f"multichat:{ws.name}:{PROVIDER}:-:token"
    assert f"key {key}" in signed.stdout, signed.stdout
    assert "token.json" not in signed.stdout
    assert not token_file(ws).exists()
    status = subprocess.run(
        [MULTICHAT, "auth", PROVIDER, "--status"],
        cwd=ws,
        capture_output=True,
        text=True,
        timeout=BOUND,
        env=clean_env(MULTICHAT_REDIS_URL=redis_url),
        check=False,
    )
    assert status.returncode == 0, status.stdout + status.stderr
    assert "  token: in Redis, redis://:***@" in status.stdout, status.stdout
    assert "token file" not in status.stdout
    password = redis_url.split(":")[2].split("@")[0]
    assert password not in signed.stdout + signed.stderr + status.stdout + status.stderr


def test_with_redis_down_sign_in_and_status_say_redis_cannot_be_reached(ws: Path):
    set_provider_keys(ws, PROVIDER, auth={"mode": "token", "whoami": "me"})
    redis_url = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there

    def auth_with_redis(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [MULTICHAT, "auth", PROVIDER, *args],
            cwd=ws,
            input=SANDBOX_PERSONAL_TOKENS["ada"],
            capture_output=True,
            text=True,
            timeout=BOUND,
            env=clean_env(MULTICHAT_REDIS_URL=redis_url),
            check=False,
        )

    signed = auth_with_redis("--with-token")
    assert signed.returncode == 1, signed.stderr
    assert f"cannot reach Redis at {redis_url}" in signed.stderr, signed.stderr
    assert len(signed.stderr.strip().splitlines()) == 1

    status = auth_with_redis("--status")
    assert status.returncode == EXIT_UNCHECKED, status.stdout + status.stderr
    assert status.stdout.startswith(f"chat: cannot reach Redis at {redis_url}"), status.stdout
    assert len(status.stdout.strip().splitlines()) == 1
    assert "multichat auth" not in status.stdout + status.stderr  # signing in won't mend it

    as_json = json.loads(auth_with_redis("--status", "--json").stdout)
    assert (as_json["check"], as_json["authenticated"]) == ("unreachable", None)
    assert as_json["error"].startswith(f"cannot reach Redis at {redis_url}")
