"""Each person's sign-in to a platform on a multi-user server: the link a tool answers with.

A call for a person with no usable token ends in :class:`~.users.SignInRequired`, whose text
holds ``PUBLIC_URL/signin/NAME?ticket=T``. The ticket is random, single use, valid for ten
minutes and bound to that person and provider. Opening it starts the platform's OAuth code flow
(state + PKCE, :class:`~.oauth.AuthorizationFlow`) with ``PUBLIC_URL/signin/NAME/callback`` as
the redirect URI, and sets a cookie that the callback must bring back, so a code cannot be
delivered to a sign-in started in another browser. The callback saves the token as that person
only (:func:`~.users.acting_as`), after the platform's who-am-I call accepts it.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote, urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from multichat.errors import MultichatError
from multichat.runtime.auth_app import check_and_save, html_page
from multichat.runtime.config import WorkspaceConfig
from multichat.runtime.oauth import AuthorizationFlow, InvalidState
from multichat.runtime.users import UserIdentity, acting_as

if TYPE_CHECKING:
    from fastmcp import FastMCP

logger = logging.getLogger("multichat.audit")

SIGNIN_PATH = "/signin"
TICKET_TTL_SECONDS = 600.0
#: Live tickets and pending sign-ins kept at most; the oldest go first beyond it.
MAX_PENDING = 1024
_COOKIE = "multichat_signin"


@dataclass(frozen=True)
class _Ticket:
    user: UserIdentity
    provider: str
    created: float


@dataclass(frozen=True)
class _Pending:
    user: UserIdentity
    provider: str
    browser_digest: bytes


class _Bounded(OrderedDict[str, Any]):
    """A dict that drops its oldest entries beyond :data:`MAX_PENDING`."""

    def put(self, key: str, value: Any) -> None:
        self[key] = value
        while len(self) > MAX_PENDING:
            self.popitem(last=False)


class UserSignIn:
    """Sign-in links and their two routes, for one workspace served at ``public_url``."""

    def __init__(self, config: WorkspaceConfig, public_url: str) -> None:
        """Nothing is issued yet; flows are built per provider on first use."""
        self.config = config
        self.public_url = public_url.rstrip("/")
        self._tickets = _Bounded()
        self._pending = _Bounded()
        self._flows: dict[str, AuthorizationFlow] = {}
        self._lock = threading.Lock()

    def callback_url(self, provider: str) -> str:
        """The redirect URI to register at the platform for ``provider``."""
        return f"{self.public_url}{SIGNIN_PATH}/{provider}/callback"

    def link_possible(self, provider: str) -> bool:
        """Whether ``provider`` signs in with OAuth's code flow, which a link can start."""
        settings = self.config.providers.get(provider)
        return settings is not None and settings.auth.mode == "oauth" and settings.oauth is not None

    def link(self, provider: str, user: UserIdentity) -> str | None:
        """A fresh sign-in link for ``user``, or ``None`` when the provider has no OAuth flow."""
        if not self.link_possible(provider):
            return None
        ticket = secrets.token_urlsafe(32)
        with self._lock:
            self._tickets.put(ticket, _Ticket(user, provider, time.monotonic()))
        return f"{self.public_url}{SIGNIN_PATH}/{provider}?ticket={quote(ticket)}"

    def install(self, server: FastMCP[Any]) -> None:
        """Add the two routes to ``server``'s HTTP app (outside MCP's bearer check)."""
        server.custom_route(f"{SIGNIN_PATH}/{{provider}}", methods=["GET"])(self.start)
        server.custom_route(f"{SIGNIN_PATH}/{{provider}}/callback", methods=["GET"])(self.finish)

    def _flow(self, provider: str) -> AuthorizationFlow:
        with self._lock:
            flow = self._flows.get(provider)
            if flow is None:
                flow = AuthorizationFlow(self.config, provider, self.callback_url(provider))
                self._flows[provider] = flow
        return flow

    async def start(self, request: Request) -> Response:
        """Use up the ticket, then send the browser to the platform's consent page."""
        provider = str(request.path_params["provider"])
        with self._lock:
            ticket = self._tickets.pop(request.query_params.get("ticket") or "", None)
        if (
            ticket is None
            or ticket.provider != provider
            or time.monotonic() - ticket.created > TICKET_TTL_SECONDS
        ):
            return html_page(
                "Sign-in link not valid",
                "This link is unknown, used or older than 10 minutes. Call the tool again "
                "for a new one.",
                400,
            )
        try:
            url = self._flow(provider).authorization_url()
        except MultichatError as exc:
            return html_page("Cannot start sign-in", str(exc), 400)
        state = parse_qs(urlsplit(url).query)["state"][0]
        browser = secrets.token_urlsafe(32)
        with self._lock:
            self._pending.put(state, _Pending(ticket.user, provider, _digest(browser)))
        response = RedirectResponse(url, status_code=302)
        response.set_cookie(
            _COOKIE,
            browser,
            max_age=int(TICKET_TTL_SECONDS),
            path=f"{SIGNIN_PATH}/{provider}",
            secure=self.public_url.startswith("https://"),
            httponly=True,
            samesite="lax",
        )
        return response

    async def finish(self, request: Request) -> Response:
        """Check state and browser, exchange the code, save the token for that person only."""
        provider = str(request.path_params["provider"])
        params = request.query_params
        state = params.get("state") or ""
        with self._lock:
            pending = self._pending.pop(state, None)
        if pending is None or pending.provider != provider:
            return html_page("Sign-in rejected", "unknown or already used state", 400)
        browser = request.cookies.get(_COOKIE, "")
        if not hmac.compare_digest(_digest(browser), pending.browser_digest):
            return html_page("Sign-in rejected", "this sign-in was started in another browser", 400)
        flow = self._flow(provider)
        try:
            verifier = flow.states.take(state)
        except InvalidState as exc:
            return html_page("Sign-in rejected", str(exc), 400)
        if params.get("error"):
            reason = str(params.get("error_description") or params["error"])
            return html_page("Sign-in did not complete", f"{provider}: {reason}", 400)
        code = params.get("code")
        if not code:
            return html_page("Sign-in did not complete", "the callback has no code", 400)
        try:
            token = await flow.exchange(code, verifier)
            with acting_as(pending.user):
                await check_and_save(provider, token)
        except MultichatError as exc:
            logger.warning("sign-in failed user=%s provider=%s", pending.user.describe(), provider)
            return html_page("Sign-in failed", str(exc), 400)
        logger.info("signed in user=%s provider=%s", pending.user.describe(), provider)
        response = html_page(
            "Signed in",
            f"Signed in to {provider}. You can close this tab and call the tool again.",
            200,
        )
        response.delete_cookie(_COOKIE, path=f"{SIGNIN_PATH}/{provider}")
        return response


def _digest(value: str) -> bytes:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).digest()
