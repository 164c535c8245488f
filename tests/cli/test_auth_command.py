"""``multichat auth`` as a user runs it: a real subprocess against a real authorization server."""

from __future__ import annotations

import json
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx2
import pytest
from fastmcp import Client
from fastmcp.exceptions import ToolError
from helpers import CLIENT_SECRET, MULTICHAT, run_cli

from multichat.runtime import build_server, load_config
from multichat.runtime.token_access import reset_provider_auth


def _start(*args: str, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [MULTICHAT, "auth", "alpha", "--no-browser", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )


def _sign_in_url(process: subprocess.Popen[str]) -> str:
    assert process.stderr is not None
    line = process.stderr.readline()
    assert line.startswith("Sign in to alpha: "), line
    return line.split(": ", 1)[1].strip()


def _secrets(workspace: Path) -> list[str]:
    token = json.loads((workspace / "src/providers/alpha/token.json").read_text())
    return [token["access_token"], token["refresh_token"], CLIENT_SECRET]


def test_sign_in_end_to_end(oauth_workspace: Path, oauth_server):
    process = _start("--timeout", "60", cwd=oauth_workspace)
    try:
        url = _sign_in_url(process)
        page = httpx2.get(url, follow_redirects=True, timeout=30)
        out, err = process.communicate(timeout=30)
    finally:
        process.kill()
    assert page.status_code == 200
    assert process.returncode == 0, err
    assert "signed in to alpha" in out
    token_file = oauth_workspace / "src/providers/alpha/token.json"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    for secret in _secrets(oauth_workspace):
        assert secret not in out + err

    status = run_cli("auth", "alpha", "--status", "--json", cwd=oauth_workspace)
    assert status.returncode == 0
    report = json.loads(status.stdout)
    assert report["authenticated"] is True
    assert report["user"] == {"sub": "johndoe"}
    for secret in _secrets(oauth_workspace):
        assert secret not in status.stdout + status.stderr

    logout = run_cli("auth", "alpha", "--logout", cwd=oauth_workspace)
    assert logout.returncode == 0, logout.stderr
    assert not token_file.exists()
    assert oauth_server.stats()["revoke"] == 2
    after = run_cli("auth", "alpha", "--status", cwd=oauth_workspace)
    assert after.returncode == 1
    assert "not signed in" in after.stdout


def test_denied_consent_exits_1_with_one_line(oauth_workspace: Path, oauth_server):
    oauth_server.configure(deny_next=True)
    process = _start("--timeout", "60", cwd=oauth_workspace)
    try:
        page = httpx2.get(_sign_in_url(process), follow_redirects=True, timeout=30)
        _, err = process.communicate(timeout=30)
    finally:
        process.kill()
    assert page.status_code == 400
    assert process.returncode == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert "access_denied" in lines[0]
    assert not (oauth_workspace / "src/providers/alpha/token.json").exists()


def test_timeout_exits_1(oauth_workspace: Path):
    process = _start("--timeout", "1", cwd=oauth_workspace)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 1
    assert "no sign-in for alpha within 1 s" in err
    assert "Traceback" not in err


def test_port_in_use_exits_1(oauth_workspace: Path):
    port = load_config(oauth_workspace / "provider-config.yaml").provider("alpha").port
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", port))
        blocker.listen()
        result = run_cli("auth", "alpha", "--no-browser", cwd=oauth_workspace)
    assert result.returncode == 1
    assert f"port {port}" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_unknown_provider_exits_2(oauth_workspace: Path):
    result = run_cli("auth", "nope", "--no-browser", cwd=oauth_workspace)
    assert result.returncode == 2
    assert "no provider 'nope'" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_guide_local_auth_runs_the_same_flow(oauth_workspace: Path):
    port = load_config(oauth_workspace / "provider-config.yaml").provider("alpha").port
    process = subprocess.Popen(
        [sys.executable, "-m", "src.server", "--provider", "alpha", "--local-auth"],
        cwd=oauth_workspace,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        page = None
        while time.monotonic() < deadline:
            try:
                page = httpx2.get(
                    f"http://127.0.0.1:{port}/auth", follow_redirects=True, timeout=10
                )
                break
            except httpx2.TransportError:
                time.sleep(0.2)
        assert page is not None
        assert page.status_code == 200
        assert (oauth_workspace / "src/providers/alpha/token.json").exists()
    finally:
        process.terminate()
        process.wait(timeout=20)


async def test_tool_refreshes_then_reports_invalid_grant(oauth_workspace: Path, oauth_server):
    config = load_config(oauth_workspace / "provider-config.yaml")
    reset_provider_auth()
    token_file = oauth_workspace / "src/providers/alpha/token.json"
    token_file.write_text(
        json.dumps({"access_token": "stale", "refresh_token": "r1", "expires_at": time.time() - 10})
    )
    server, report = build_server(config, ["alpha"])
    assert report.failures == []
    async with Client(server) as client:
        profile = await client.call_tool("alpha_whoami", {})
    assert profile.data["sub"] == "johndoe"
    assert oauth_server.refreshes() == 1

    reset_provider_auth()
    token_file.write_text(
        json.dumps({"access_token": "stale", "refresh_token": "r2", "expires_at": time.time() - 10})
    )
    before = token_file.read_bytes()
    oauth_server.configure(fail_next_refresh=True)
    server, _ = build_server(config, ["alpha"])
    async with Client(server) as client:
        with pytest.raises(ToolError, match="run `multichat auth alpha`"):
            await client.call_tool("alpha_whoami", {})
    assert token_file.read_bytes() == before
