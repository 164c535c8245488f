"""A real OpenID Connect / OAuth 2.0 authorization server for the tests: panva's oidc-provider.

``oidc_provider_server.mjs`` configures it (device flow, open dynamic client registration,
revocation, introspection, PKCE for public clients, rotating refresh tokens, login and consent
pages, test-only endpoints under ``/test/``); this module installs it from npm, runs it and
answers its pages over HTTP. It is a pytest plugin, registered in ``tests/conftest.py`` with
``pytest_plugins``, so every test can ask for the ``oidc_provider`` fixture.

npm: https://www.npmjs.com/package/oidc-provider (no ``engines`` field; version 9 names Node.js 22
as its minimum and warns on 20, but runs on Node.js >= 20.18, see the script's first lines).

What it does, checked by test_oidc_provider_support.py:
- issuer ``http://127.0.0.1:PORT``; the same metadata at ``/.well-known/openid-configuration`` and
  ``/.well-known/oauth-authorization-server`` (RFC 8414). Endpoints: ``/auth``, ``/token``,
  ``/device/auth`` (device authorization), ``/device`` (verification page), ``/reg``,
  ``/token/revocation``, ``/token/introspection``, ``/me`` (userinfo), ``/jwks``, ``/session/end``.
- PKCE: public clients must send a challenge; only ``S256`` (``plain`` is invalid_request).
- A native client's loopback redirect may use any port (RFC 8252 s7.3); web clients match exactly.
- Scopes it knows: see ``SCOPES`` in the .mjs; unknown ones are dropped from the token silently.
- ``slow_down`` and the ``interval`` field come from our script, not from oidc-provider.
"""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
from helpers import LinePump, free_port, install_npm_tool, stop_process

OIDC_PROVIDER_VERSION = "9.13.3"
SCRIPT = Path(__file__).parent / "oidc_provider_server.mjs"
DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
START_TIMEOUT = 30.0
HTTP_TIMEOUT = 10.0

# The hidden CSRF field oidc-provider puts in its device forms (lib/helpers/user_code_form.js).
_XSRF = re.compile(r'name="xsrf" value="([^"]+)"')
# Our own login/consent pages say which step they are (see the .mjs: "login and consent").
_PROMPT = re.compile(r'<meta name="interaction-prompt" content="(\w+)">')


class OidcInteractionError(AssertionError):
    """A page of the authorization server was not the one the helper expected."""


def install_oidc_provider() -> Path:
    """Install oidc-provider once under ~/.cache/multichat-tests; the runnable script's path."""
    return install_npm_tool("oidc-provider", OIDC_PROVIDER_VERSION, SCRIPT)


@dataclass(frozen=True)
class OidcClient:
    """A client registered in the server's configuration (the ``clients`` list of the .mjs)."""

    client_id: str
    client_secret: str | None
    redirect_uri: str
    token_endpoint_auth_method: str
    application_type: str
    grant_types: tuple[str, ...]


@dataclass(frozen=True)
class OidcProviderServer:
    """A running oidc-provider: its issuer URL, clients, accounts, and ways to answer its pages."""

    url: str
    clients: dict[str, OidcClient]
    accounts: dict[str, dict[str, Any]]

    @property
    def public_client(self) -> OidcClient:
        """The native public client: no secret, PKCE, code + refresh + device grants."""
        return next(c for c in self.clients.values() if c.token_endpoint_auth_method == "none")

    @property
    def confidential_client(self) -> OidcClient:
        """The web confidential client: client_secret_basic, code + refresh grants."""
        return next(c for c in self.clients.values() if c.client_secret is not None)

    def password(self, username: str = "alice") -> str:
        return str(self.accounts[username]["password"])

    def endpoint(self, name: str) -> str:
        """An endpoint URL from the discovery document, e.g. ``token_endpoint``."""
        return str(self.metadata[name])

    @cached_property
    def metadata(self) -> dict[str, Any]:
        """The discovery document (the same at /.well-known/oauth-authorization-server)."""
        return self._call("GET", "/.well-known/openid-configuration")

    def configure(self, **settings: object) -> dict[str, Any]:
        """Change knobs for the next requests: ``access_token_ttl``, ``refresh_token_ttl``,
        ``device_code_ttl``, ``device_poll_interval`` (s), ``refresh_token_policy``
        (``always``/``offline_access``), ``rotate_refresh_tokens`` (bool)."""
        return self._call("POST", "/test/config", settings)

    def reset(self) -> dict[str, Any]:
        """All knobs back to their defaults; forgets the device poll times."""
        return self._call("POST", "/test/reset", {})

    def approve_device(self, user_code: str, account: str = "alice") -> None:
        """Approve a pending device code as ``account``, without the verification pages."""
        self._call(
            "POST",
            "/test/device/approve",
            {"user_code": user_code, "decision": "allow", "account_id": account},
        )

    def deny_device(self, user_code: str) -> None:
        """Deny a pending device code: the device's next poll answers ``access_denied``."""
        self._call("POST", "/test/device/approve", {"user_code": user_code, "decision": "deny"})

    def complete_login(
        self,
        authorize_url: str,
        *,
        username: str = "alice",
        password: str | None = None,
        decision: str = "allow",
    ) -> str:
        """Open ``authorize_url``, sign in, answer the consent page; the client's redirect URL.

        The returned URL carries ``code`` (or ``error=access_denied`` when ``decision`` is
        ``"deny"``), ``state`` and ``iss``. Raises :class:`OidcInteractionError` when the server
        answers with a page instead (a bad redirect_uri, a wrong password).
        """
        import httpx2

        with httpx2.Client(timeout=HTTP_TIMEOUT) as browser:
            response = self._answer_pages(
                browser, browser.get(authorize_url), username, password, decision
            )
        if not response.is_redirect:
            raise OidcInteractionError(f"no redirect to the client: {_describe(response)}")
        return urljoin(str(response.url), response.headers["location"])

    def complete_device(
        self,
        user_code: str,
        *,
        username: str = "alice",
        password: str | None = None,
        decision: str = "allow",
    ) -> str:
        """Enter ``user_code`` on the verification page, confirm (or abort when ``decision`` is
        ``"deny"``), sign in and consent: the text of the last page the user sees."""
        import httpx2

        device_page = f"{self.url}/device"
        with httpx2.Client(timeout=HTTP_TIMEOUT) as browser:
            entry = browser.get(device_page)
            confirm = browser.post(device_page, data={"xsrf": _xsrf(entry), "user_code": user_code})
            answer = {"confirm": "yes"} if decision == "allow" else {"abort": "yes"}
            response = browser.post(
                device_page, data={"xsrf": _xsrf(confirm), "user_code": user_code, **answer}
            )
            response = self._answer_pages(browser, response, username, password, decision)
        return response.text

    def _answer_pages(
        self, browser: Any, response: Any, username: str, password: str | None, decision: str
    ) -> Any:
        """Follow redirects inside the server, answering login and consent, until it lets go."""
        answered: set[str] = set()
        for _ in range(20):
            if response.is_redirect:
                location = urljoin(str(response.url), response.headers["location"])
                if not location.startswith(f"{self.url}/"):
                    return response
                response = browser.get(location)
                continue
            found = _PROMPT.search(response.text)
            if found is None:
                return response
            prompt = found.group(1)
            if prompt in answered:
                raise OidcInteractionError(f"the {prompt} page came back: {_describe(response)}")
            answered.add(prompt)
            if prompt == "login":
                form = {"username": username, "password": password or self.password(username)}
            else:
                form = {"decision": decision}
            response = browser.post(f"{str(response.url).rstrip('/')}/{prompt}", data=form)
        raise OidcInteractionError("too many redirects")

    def _call(
        self, method: str, path: str, body: dict[str, object] | None = None
    ) -> dict[str, Any]:
        import httpx2

        response = httpx2.request(method, f"{self.url}{path}", json=body, timeout=HTTP_TIMEOUT)
        response.raise_for_status()
        return dict(response.json())


def _xsrf(page: Any) -> str:
    found = _XSRF.search(page.text)
    if found is None:
        raise OidcInteractionError(f"no device form: {_describe(page)}")
    return found.group(1)


def _describe(page: Any) -> str:
    """A page's status and visible text, for error messages."""
    text = " ".join(re.sub(r"<[^>]+>", " ", page.text).split())
    return f"HTTP {page.status_code} at {page.url}: {text[:500]}"


def redirect_params(redirect_url: str) -> dict[str, str]:
    """The query parameters of an authorization response, one value each."""
    return {key: values[0] for key, values in parse_qs(urlsplit(redirect_url).query).items()}


def start_oidc_provider(
    settings: dict[str, object] | None = None,
) -> tuple[subprocess.Popen[str], OidcProviderServer]:
    """Install if needed and start oidc-provider on a free port; returns once it listens."""
    import json

    import httpx2

    script = install_oidc_provider()
    port = free_port()
    process = subprocess.Popen(
        ["node", str(script), str(port), json.dumps(settings or {})],
        cwd=script.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    pump = LinePump(process.stdout)
    deadline = time.monotonic() + START_TIMEOUT
    while (line := pump.next_line(deadline)) is not None and line.strip() != "ready":
        pass
    if line is None:
        process.kill()
        pytest.fail(f"oidc-provider did not start: {''.join(pump.seen)}")
    url = f"http://127.0.0.1:{port}"
    info = httpx2.get(f"{url}/test/info", timeout=HTTP_TIMEOUT).json()
    clients = {
        raw["client_id"]: OidcClient(
            client_id=raw["client_id"],
            client_secret=raw.get("client_secret"),
            redirect_uri=raw["redirect_uris"][0],
            token_endpoint_auth_method=raw["token_endpoint_auth_method"],
            application_type=raw["application_type"],
            grant_types=tuple(raw["grant_types"]),
        )
        for raw in info["clients"]
    }
    return process, OidcProviderServer(url=url, clients=clients, accounts=info["accounts"])


@pytest.fixture(scope="session")
def _oidc_provider_process() -> Iterator[OidcProviderServer]:
    process, server = start_oidc_provider()
    try:
        yield server
    finally:
        stop_process(process)


@pytest.fixture
def oidc_provider(_oidc_provider_process: OidcProviderServer) -> Iterator[OidcProviderServer]:
    """The shared oidc-provider process, its knobs at their defaults for this test."""
    _oidc_provider_process.reset()
    yield _oidc_provider_process
    _oidc_provider_process.reset()
