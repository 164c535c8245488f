"""An MCP client that signs in through a team server's OIDC proxy with no browser.

FastMCP's ``OAuth`` client helper (discovery, dynamic client registration, PKCE) whose browser
steps are answered over HTTP: our consent page is approved, the identity provider's login is
completed as the given person (``OidcProviderServer.complete_login``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import anyio.to_thread
import httpx2
from fastmcp import Client
from fastmcp.client.auth import OAuth
from helpers import HtmlForm
from key_value.aio.stores.memory import MemoryStore
from mcp.shared.auth import AuthorizationCodeResult

from support.oidc_provider import OidcProviderServer


class HeadlessOAuth(OAuth):
    """FastMCP's OAuth client helper, with the browser steps answered by ``browse``."""

    def __init__(self, browse: Callable[[str], str], **options: Any) -> None:
        super().__init__(**options)
        self._browse = browse
        self._landing = ""

    async def redirect_handler(self, authorization_url: str) -> None:
        self._landing = await anyio.to_thread.run_sync(self._browse, authorization_url)

    async def callback_handler(self) -> AuthorizationCodeResult:
        query = {k: v[0] for k, v in parse_qs(urlsplit(self._landing).query).items()}
        assert "code" in query, self._landing
        return AuthorizationCodeResult(
            code=query["code"], state=query.get("state"), iss=query.get("iss")
        )


def browse_as(oidc: OidcProviderServer, server_url: str, username: str) -> Callable[[str], str]:
    """A browser that approves our consent page and signs in at the IdP as ``username``."""

    def browse(authorization_url: str) -> str:
        with httpx2.Client(timeout=15) as browser:
            response = browser.get(authorization_url)
            for _ in range(10):
                if response.is_redirect:
                    location = urljoin(str(response.url), response.headers["location"])
                    if location.startswith(oidc.url):
                        back = oidc.complete_login(location, username=username)
                        response = browser.get(back)
                        continue
                    if not location.startswith(server_url):
                        return location  # the MCP client's own callback: done
                    response = browser.get(location)
                    continue
                form = HtmlForm(response.text)
                assert "txn_id" in form.fields, response.text[:500]
                response = browser.post(
                    str(response.url), data={**form.fields, "action": "approve"}
                )
            raise AssertionError("too many steps")

    return browse


def oauth_client(url: str, oidc: OidcProviderServer, username: str) -> Client[Any]:
    """An MCP client of the server at ``url`` that signs in through its proxy as ``username``."""
    auth = HeadlessOAuth(
        browse_as(oidc, url, username),
        client_name=f"{username}'s client",
        token_storage=MemoryStore(),
    )
    return Client(f"{url}/mcp", auth=auth, timeout=30)
