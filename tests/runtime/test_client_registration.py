"""Matrix's next-generation auth (issues 13 and 15): the homeserver advertises its OAuth server
at ``/_matrix/client/v1/auth_metadata``; multichat registers itself as a client there (RFC 7591)
and signs in with the code flow and PKCE. The OAuth server is panva's oidc-provider with open
registration; a small stand-in homeserver serves the auth-metadata endpoint.
"""

from __future__ import annotations

import json
import re
import stat
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from helpers import MULTICHAT, LinePump, clean_env, free_port, set_provider_keys
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route
from support.oidc_provider import OidcProviderServer

from multichat.sandbox.server import SandboxServer

PROVIDER = "mx"
BOUND = 60.0


@pytest.fixture
def homeserver(oidc_provider: OidcProviderServer) -> Iterator[str]:
    """A stand-in homeserver: only ``GET /_matrix/client/v1/auth_metadata`` (MSC2965)."""

    async def auth_metadata(request: object) -> JSONResponse:
        return JSONResponse(oidc_provider.metadata)

    app = Starlette(routes=[Route("/_matrix/client/v1/auth_metadata", auth_metadata)])
    with SandboxServer(app=app) as server:
        yield server.url


@pytest.fixture
def ws(workspace: Path, add_provider, homeserver: str, oidc_provider: OidcProviderServer) -> Path:
    port = free_port()
    add_provider(PROVIDER, port=port, scopes=["openid", "offline_access", "profile"])
    set_provider_keys(
        workspace,
        PROVIDER,
        auth={"mode": "oauth", "whoami": oidc_provider.endpoint("userinfo_endpoint")},
        oauth={
            "metadata_url": f"{homeserver}/_matrix/client/v1/auth_metadata",
            "dynamic_registration": True,
        },
        api_base_url=homeserver,
    )
    return workspace


def test_a_client_is_registered_and_the_sign_in_completes(
    ws: Path, oidc_provider: OidcProviderServer
):
    process = subprocess.Popen(
        [MULTICHAT, "auth", PROVIDER, "--no-browser", "--timeout", "60"],
        cwd=ws,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_env(),
    )
    out, err = LinePump(process.stdout), LinePump(process.stderr)
    try:
        line = err.next_line(time.monotonic() + BOUND)
        assert line is not None, "".join(err.seen)
        start = re.match(rf"Sign in to {PROVIDER}: (\S+)", line)
        assert start is not None, line
        to_server = httpx2.get(start[1], timeout=30)
        assert to_server.status_code == 302, to_server.text
        back = oidc_provider.complete_login(
            to_server.headers["location"], username="alice", password=oidc_provider.password()
        )
        page = httpx2.get(back, timeout=30)
        process.wait(timeout=BOUND)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)

    assert page.status_code == 200, page.text
    assert process.returncode == 0, "".join(err.seen)
    assert f"signed in to {PROVIDER}" in out.join(10)
    credentials = ws / "src" / "providers" / PROVIDER / "credentials.json"
    registered = json.loads(credentials.read_text())
    assert registered["client_id"]
    assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
    token = json.loads((ws / "src" / "providers" / PROVIDER / "token.json").read_text())
    assert token["mode"] == "oauth"
    assert token["refresh_token"]
    assert token["user"]["sub"] == "alice"


def test_a_server_without_registration_says_so(ws: Path, monkeypatch: pytest.MonkeyPatch):
    config = ws / "provider-config.yaml"
    config.write_text(
        config.read_text().replace("dynamic_registration: true", "dynamic_registration: false")
    )
    result = subprocess.run(
        [MULTICHAT, "auth", PROVIDER, "--no-browser", "--timeout", "5"],
        cwd=ws,
        capture_output=True,
        text=True,
        timeout=BOUND,
        env=clean_env(),
        check=False,
    )
    assert result.returncode == 2
    assert "no OAuth client id for mx" in result.stderr
    assert not (ws / "src" / "providers" / PROVIDER / "credentials.json").exists()
