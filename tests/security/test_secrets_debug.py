"""With every logger at DEBUG, no secret reaches any output, log record or MCP response.

One end-to-end flow against the sandbox, through the installed console script: sign in with
``multichat auth`` (a confidential client, so a client secret is in play) by answering the real
consent form, call tools over stdio, refresh an expired token, serve HTTP behind a bearer token,
show the status, log out. A ``sitecustomize`` on ``PYTHONPATH`` turns the root logger to DEBUG
in every subprocess before multichat starts; the test process captures its own records too.
"""

from __future__ import annotations

import json
import logging
import re
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from fastmcp import Client
from helpers import MULTICHAT, free_port
from ruamel.yaml import YAML
from security_support import (
    PROVIDER,
    LinePump,
    RawStdioSession,
    make_sandbox_workspace,
)

from multichat.demo.consent_form import answer_consent
from multichat.sandbox import SandboxServer, register_client

CLIENT_ID = "multichat-secrets-test"
CLIENT_SECRET = "sbx-client-secret-93be7d1f"
HTTP_TOKEN = "http-bearer-token-5a61c0e2f4b8"
BOUND = 60.0


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer() as server:
        yield server


@pytest.fixture
def confidential_workspace(sandbox: SandboxServer, tmp_path: Path) -> Path:
    """The sandbox preset, switched to a confidential client registered with a secret."""
    workspace = make_sandbox_workspace(tmp_path / "ws", sandbox.url)
    config = workspace / "provider-config.yaml"
    yaml = YAML()
    document = yaml.load(config.read_text())
    callback = str(document["providers"][PROVIDER]["callback_url"])
    register_client(
        sandbox.app.state.db, CLIENT_ID, "secrets test", [callback], secret=CLIENT_SECRET
    )
    credentials = workspace / "src" / "providers" / PROVIDER / "credentials.json"
    credentials.write_text(json.dumps({"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}))
    credentials.chmod(0o600)
    return workspace


class Outputs:
    """Everything any process printed, and every MCP response, for the final scan."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def add(self, *texts: str) -> None:
        self.texts.extend(texts)


def run_cli_debug(
    workspace: Path, env: dict[str, str], *args: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [MULTICHAT, *args],
        cwd=workspace,
        env=env,
        capture_output=True,
        text=True,
        timeout=BOUND,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def sign_in(workspace: Path, env: dict[str, str], outputs: Outputs) -> None:
    process = subprocess.Popen(
        [MULTICHAT, "auth", PROVIDER, "--no-browser", "--timeout", "60"],
        cwd=workspace,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out, err = LinePump(process.stdout), LinePump(process.stderr)
    try:
        deadline = time.monotonic() + BOUND
        url = None
        while url is None:
            line = err.next_line(deadline)
            assert line is not None, "multichat auth ended before printing the sign-in URL"
            # A DEBUG record from the auth server's thread may land on the same stderr line.
            found = re.match(rf"Sign in to {PROVIDER}: (http://127\.0\.0\.1:\d+/auth)", line)
            url = found[1] if found else None
        page = answer_consent(url)
        process.wait(timeout=BOUND)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
    outputs.add(out.join(10), err.join(10), page.text)
    assert page.status_code == 200, page.text
    assert process.returncode == 0, "".join(err.seen)
    assert f"signed in to {PROVIDER}" in "".join(out.seen)


def stdio_calls(workspace: Path, env: dict[str, str], outputs: Outputs) -> list[dict[str, Any]]:
    with RawStdioSession(workspace, "--log-level", "DEBUG", env=env) as session:
        session.initialize()
        answers = [
            session.call_tool(f"{PROVIDER}_whoami", {}),
            session.call_tool(f"{PROVIDER}_list_channels", {"limit": 3}),
            session.call_tool(f"{PROVIDER}_send_message", {"channel_id": "C03", "text": "hi"}),
            session.call_tool(f"{PROVIDER}_provider_info", {}),
        ]
    outputs.add(session.stdout_text, session.stderr_text)
    assert "DEBUG" in session.stderr_text  # the server really logged at DEBUG
    for answer in answers:
        assert answer["result"].get("isError") is not True, answer
    return answers


def wait_listening(port: int, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + BOUND
    while time.monotonic() < deadline:
        assert process.poll() is None, "multichat run --transport http exited early"
        with socket.socket() as sock:
            sock.settimeout(0.5)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    pytest.fail(f"nothing listened on port {port} in time")


async def http_session(workspace: Path, env: dict[str, str], outputs: Outputs) -> None:
    port = free_port()
    process = subprocess.Popen(
        [MULTICHAT, "run", "--transport", "http", "--port", str(port), "--log-level", "DEBUG"],
        cwd=workspace,
        env={**env, "MULTICHAT_HTTP_TOKEN": HTTP_TOKEN},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out, err = LinePump(process.stdout), LinePump(process.stderr)
    try:
        wait_listening(port, process)
        url = f"http://127.0.0.1:{port}/mcp"
        async with Client(url, auth=HTTP_TOKEN, timeout=BOUND) as client:
            result = await client.call_tool(f"{PROVIDER}_get_my_mentions", {"limit": 2})
        refused = httpx2.post(url, headers={"Authorization": "Bearer wrong"}, json={}, timeout=10)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    outputs.add(out.join(10), err.join(10), json.dumps(result.structured_content), refused.text)
    assert len(result.structured_content["messages"]) == 2
    assert refused.status_code == 401


async def test_no_secret_is_printed_logged_or_answered_at_debug(
    confidential_workspace, sandbox, debug_env, caplog, capfd
):
    caplog.set_level(logging.DEBUG)
    workspace = confidential_workspace
    token_file = workspace / "src" / "providers" / PROVIDER / "token.json"
    outputs = Outputs()

    sign_in(workspace, debug_env, outputs)
    first = json.loads(token_file.read_text())
    answers = stdio_calls(workspace, debug_env, outputs)

    # Expire the token on disk: the next server refreshes it (with the client secret).
    token_file.write_text(json.dumps({**first, "expires_at": time.time() - 10}))
    stdio_calls(workspace, debug_env, outputs)
    refreshed = json.loads(token_file.read_text())
    await http_session(workspace, debug_env, outputs)

    status = run_cli_debug(workspace, debug_env, "auth", PROVIDER, "--status", "--json")
    logout = run_cli_debug(workspace, debug_env, "auth", PROVIDER, "--logout")
    outputs.add(status.stdout, status.stderr, logout.stdout, logout.stderr)
    out, err = capfd.readouterr()
    outputs.add(out, err)
    records = [
        f"{record.name} {record.getMessage()} {record.args!r} {record.exc_text or ''}"
        for record in caplog.records
    ]

    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["authenticated"] is True
    assert logout.returncode == 0, logout.stderr
    assert "revoked the refresh token" in logout.stdout
    assert not token_file.exists()
    assert refreshed["access_token"] != first["access_token"]
    assert refreshed["refresh_token"] != first["refresh_token"]
    assert answers[0]["result"]["structuredContent"]["username"] == "ada"
    secrets = {
        "first access token": first["access_token"],
        "first refresh token": first["refresh_token"],
        "refreshed access token": refreshed["access_token"],
        "refreshed refresh token": refreshed["refresh_token"],
        "client secret": CLIENT_SECRET,
        "HTTP bearer token": HTTP_TOKEN,
    }
    haystack = "\n".join(outputs.texts + records)
    assert len(haystack) > 10_000  # DEBUG output of five processes, not an empty capture
    leaked = {name for name, secret in secrets.items() if secret in haystack}
    assert leaked == set()
