"""Signing in without an OAuth app (issue 13): a pasted token, the environment, discovery, a
device code. Every token is checked with the platform's who-am-I call before it is saved.

The platform here is a fake Mattermost whose every request and answer is checked against
Mattermost's own API description (tests/support/specs/mattermost), served on 127.0.0.1.
"""

from __future__ import annotations

import json
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastmcp import Client
from fastmcp.client.transports import StdioTransport
from helpers import MULTICHAT, clean_env, run_cli, set_provider_keys
from support.canned import MM_TEAM
from support.fake_platform import FakePlatform, RecordedRequest, Reply

GOOD_TOKEN = "9xuqwrwgstrb3mzrxb83nb357a"
BAD_TOKEN = "badbadbadbadbadbadbadbadba"
PROVIDER = "mm"
#: A Mattermost user as definitions.yaml's User schema describes one.
ME = {"id": "u8ehxt5xzbrxdqw5nywgg41pye", "username": "ada", "first_name": "Ada", "email": "a@x"}
TEAM = {"id": MM_TEAM, "name": "engineering", "display_name": "Engineering", "type": "O"}
#: The "adapter": all a user writes by hand for a new platform, beside the config.
TEAMS_TOOL = '''\
"""Tools of a Mattermost-like platform: the user's teams."""

from typing import Any

from ..api.client import get_json
from ..mcp_instance import tool


@tool(read_only=True)
async def my_teams() -> list[dict[str, Any]]:
    """The teams the signed-in user belongs to."""
    teams = await get_json("users/me/teams")
    return [{"id": team["id"], "name": team["display_name"]} for team in teams]
'''


def _as_user(request: RecordedRequest) -> Reply | dict[str, Any]:
    if request.headers.get("authorization") != f"Bearer {GOOD_TOKEN}":
        return FakePlatform("mattermost").token_rejected()
    return ME


@pytest.fixture
def mattermost() -> Iterator[tuple[FakePlatform, str]]:
    fake = FakePlatform("mattermost")
    fake.on("GetUser", _as_user)
    fake.on("GetTeamsForUser", [TEAM])
    with fake, fake.serve() as url:
        yield fake, url


@pytest.fixture
def ws(workspace: Path, add_provider: Any, mattermost: tuple[FakePlatform, str]) -> Path:
    """A blank provider made into a Mattermost client by its config and one tool module."""
    _, url = mattermost
    folder = add_provider(PROVIDER)
    (folder / "tools" / "teams.py").write_text(TEAMS_TOOL)
    set_provider_keys(
        workspace,
        PROVIDER,
        api_base_url=f"{url}/api/v4",
        auth={"mode": "token", "whoami": "users/me"},
    )
    return workspace


def auth(
    ws: Path, *args: str, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [MULTICHAT, "auth", PROVIDER, *args],
        cwd=ws,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env=env if env is not None else clean_env(),
        check=False,
    )


def token_file(ws: Path) -> Path:
    return ws / "src" / "providers" / PROVIDER / "token.json"


async def test_a_blank_provider_signs_in_with_a_pasted_token_and_serves_a_call(
    ws: Path, mattermost, debug_env
):
    fake, _ = mattermost
    signed = auth(ws, "--with-token", stdin=GOOD_TOKEN + "\n", env=debug_env)

    assert signed.returncode == 0, signed.stderr
    assert "DEBUG" in signed.stderr  # it really logged at DEBUG, and no secret among it
    assert signed.stdout.strip().startswith(f"signed in to {PROVIDER} as ada; token saved to ")
    assert GOOD_TOKEN not in signed.stdout + signed.stderr
    saved = json.loads(token_file(ws).read_text())
    assert stat.S_IMODE(token_file(ws).stat().st_mode) == 0o600
    assert saved["access_token"] == GOOD_TOKEN
    assert saved["mode"] == "token"
    assert saved["user"]["username"] == "ada"

    transport = StdioTransport(command=MULTICHAT, args=["run"], cwd=str(ws), env=clean_env())
    async with Client(transport, timeout=60) as client:
        result = await client.call_tool(f"{PROVIDER}_my_teams", {})
    assert result.structured_content == {"result": [{"id": MM_TEAM, "name": "Engineering"}]}
    [call] = fake.calls("GetTeamsForUser")
    assert call.headers["authorization"] == f"Bearer {GOOD_TOKEN}"


def test_a_rejected_token_saves_nothing_and_says_why(ws: Path, debug_env):
    refused = auth(ws, "--with-token", stdin=BAD_TOKEN)
    at_debug = auth(ws, "--with-token", stdin=BAD_TOKEN, env=debug_env)

    assert refused.returncode == 1
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1, refused.stderr
    assert BAD_TOKEN not in at_debug.stdout + at_debug.stderr
    assert "Invalid or expired session, please login again." in lines[0]
    assert f"multichat auth {PROVIDER}" in lines[0]
    assert BAD_TOKEN not in refused.stdout + refused.stderr
    assert not token_file(ws).exists()


def test_an_empty_token_is_bad_input(ws: Path):
    empty = auth(ws, "--with-token", stdin="\n")
    assert empty.returncode == 2
    assert "no token was given" in empty.stderr
    assert not token_file(ws).exists()


async def test_the_environment_serves_without_a_file(ws: Path):
    env = {f"MULTICHAT_{PROVIDER.upper()}_TOKEN": GOOD_TOKEN}
    status = auth(ws, "--status", env=clean_env(**env))
    assert status.returncode == 0, status.stderr
    assert f"token: from the environment (MULTICHAT_{PROVIDER.upper()}_TOKEN)" in status.stdout

    transport = StdioTransport(command=MULTICHAT, args=["run"], cwd=str(ws), env=clean_env(**env))
    async with Client(transport, timeout=60) as client:
        result = await client.call_tool(f"{PROVIDER}_whoami", {})
    assert result.structured_content["username"] == "ada"
    assert not token_file(ws).exists()


def test_status_prints_readable_fields_and_json_only_with_status(ws: Path):
    auth(ws, "--with-token", stdin=GOOD_TOKEN)
    status = auth(ws, "--status")
    lines = status.stdout.splitlines()
    assert lines[0] == f"{PROVIDER}: signed in as ada (sign-in mode: token)"
    assert "  user: ada a@x (u8ehxt5xzbrxdqw5nywgg41pye)" in lines
    assert "{" not in status.stdout  # fields, not a Python dict
    as_json = json.loads(auth(ws, "--status", "--json").stdout)
    assert as_json["user"]["username"] == "ada"
    assert as_json["mode"] == "token"

    misplaced = auth(ws, "--json")
    assert misplaced.returncode == 2
    assert "--json goes with --status only" in misplaced.stderr


def test_not_signed_in_errors_name_the_command_for_the_mode(ws: Path):
    doctor = run_cli("doctor", cwd=ws)
    assert (
        f"not signed in (no {token_file(ws)}; sign-in mode: token); fix: `multichat auth "
        f"{PROVIDER}` (it asks for the token; or pipe it in with --with-token)"
    ) in doctor.stdout
    assert "OAuth client" not in doctor.stdout  # a token platform needs no OAuth app
