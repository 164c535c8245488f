"""A team server run as ``multichat run --multi-user`` processes, and what its tests do to it.

Shared by tests/e2e/test_e2e_multi_user.py (one instance) and
tests/runtime/test_multi_user_instances.py (two on one Redis): the sandbox provider the team
signs into, the team's identity provider registered with oidc-provider, waiting for a process
to serve, and a person's steps (call, get a link, sign in at the sandbox).
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx2
import pytest
from fastmcp import Client
from fastmcp.exceptions import ToolError
from helpers import HtmlForm, free_port, set_provider_keys
from team_server import link_pattern

from multichat.runtime import load_config
from multichat.sandbox import SandboxServer, register_client
from support.oidc_provider import OidcProviderServer

PROVIDER = "chat"
TEAM_CLIENT = "multichat-team"
LINK = link_pattern(PROVIDER)
START_TIMEOUT = 60.0


def team_workspace(
    workspace: Path,
    sandbox: SandboxServer,
    oidc: OidcProviderServer,
    public_url: str,
    mode: str = "oauth",
) -> str:
    """A sandbox provider signing people in by ``mode``; the IdP's client secret.

    In ``oauth`` mode the platform calls back to the public address.
    """
    from multichat.generator.provider import add_provider as generate

    generate(
        PROVIDER,
        config_path=workspace / "provider-config.yaml",
        preset="sandbox",
        data={"platform_url": sandbox.url, "port": free_port()},
    )
    register_client(
        sandbox.app.state.db, TEAM_CLIENT, "team server", ["http://127.0.0.1/signin/chat/callback"]
    )
    oauth = load_config(workspace / "provider-config.yaml").provider(PROVIDER).oauth
    assert oauth is not None
    set_provider_keys(
        workspace,
        PROVIDER,
        oauth={**oauth.model_dump(exclude_none=True), "client_id": TEAM_CLIENT},
        auth={"mode": mode, "whoami": "me"},
    )
    registered = httpx2.post(
        oidc.endpoint("registration_endpoint"),
        json={
            "client_name": "multichat team server",
            "redirect_uris": [f"{public_url}/oidc/callback"],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "client_secret_basic",
        },
        timeout=10,
    ).json()
    config = workspace / "provider-config.yaml"
    config.write_text(
        config.read_text()
        + f"server:\n  public_url: {public_url}\n  auth:\n    oidc:\n"
        + f"      issuer: {oidc.url}\n      client_id: {registered['client_id']}\n"
    )
    return str(registered["client_secret"])


def wait_until_serving(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    """Return once ``url`` answers its OAuth metadata; fail with ``log`` if the process ends."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"multichat run exited: {log.read_text()}")
        try:
            if httpx2.get(f"{url}/.well-known/oauth-authorization-server", timeout=2).is_success:
                return
        except httpx2.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail(f"multichat run did not start serving: {log.read_text()}")


async def whoami(client: Client[Any]) -> str:
    """The platform account the person behind ``client`` is served as."""
    result = await client.call_tool(f"{PROVIDER}_whoami", {})
    return str(result.structured_content["id"])  # type: ignore[index]


async def refused_link(client: Client[Any]) -> str:
    """The sign-in link a call answers for a person with no token yet."""
    with pytest.raises(ToolError) as refused:
        await whoami(client)
    found = LINK.search(str(refused.value))
    assert found is not None, str(refused.value)
    return found.group(0)


def sign_in_at_the_sandbox(link: str, sandbox_user: str) -> str:
    """Open a sign-in link, allow on the sandbox's consent page, follow the callback: its page."""
    with httpx2.Client(timeout=15) as browser:
        to_platform = browser.get(link)
        assert to_platform.status_code == 302, to_platform.text
        authorize = f"{to_platform.headers['location']}&login_hint={sandbox_user}"
        page = browser.get(authorize)
        form = HtmlForm(page.text)
        answer = browser.post(
            urljoin(authorize, form.action), data={**form.fields, "decision": "allow"}
        )
        assert answer.status_code == 302, answer.text
        return browser.get(answer.headers["location"]).text
