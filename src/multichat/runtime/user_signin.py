"""Each person's sign-in to a platform on a multi-user server: the link a tool answers with.

A call for a person with no usable token ends in :class:`~.users.SignInRequired`, whose text
holds ``PUBLIC_URL/signin/NAME?ticket=T``. The ticket is random, single use, valid for ten
minutes and bound to that person and provider. Opening it sets a cookie that the next step must
bring back, so nothing can be delivered to a sign-in started in another browser, and then, by
the provider's ``auth.mode``:

- ``oauth``: the platform's OAuth code flow (state + PKCE, :class:`~.oauth.AuthorizationFlow`)
  with ``PUBLIC_URL/signin/NAME/callback`` as the redirect URI;
- ``token`` and ``password``: a form that posts the token (or user and password, handed to the
  provider's ``exchange_password`` hook and dropped) back to the same path;
- ``device``: the device code to enter at the platform (RFC 8628), while the server polls.

Each way saves the token as that person only (:func:`~.users.acting_as`), after the platform's
who-am-I call accepts it.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote, urlsplit

import anyio
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from multichat.errors import MultichatError
from multichat.runtime.auth_app import check_and_save
from multichat.runtime.config import WorkspaceConfig
from multichat.runtime.oauth import AuthorizationFlow, InvalidState
from multichat.runtime.sign_in_needs import EXCHANGE_PASSWORD, whoami_setting
from multichat.runtime.signin_pages import Field, device_page, form_page, message_page
from multichat.runtime.users import SignInRequired, UserIdentity, acting_as

if TYPE_CHECKING:
    import httpx2
    from fastmcp import FastMCP

    from multichat.runtime.device_flow import DeviceCode
    from multichat.runtime.oauth import OAuthSettingsResolved

logger = logging.getLogger("multichat.audit")

SIGNIN_PATH = "/signin"
TICKET_TTL_SECONDS = 600.0
#: Live tickets and pending sign-ins kept at most; the oldest go first beyond it.
MAX_PENDING = 1024
#: Tries one link gives at a form (a mistyped token); then the tool gives a new link.
MAX_FORM_TRIES = 5
#: Device codes polled at once; each holds a worker thread until the person decides.
MAX_DEVICE_POLLS = 16
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
    created: float = 0.0
    tries: int = 0


class DeviceSignInStopped(MultichatError):
    """The server stopped while a person's device sign-in was waiting for them."""


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
        self._device_polls: set[asyncio.Task[None]] = set()
        self._device_limiter = anyio.CapacityLimiter(MAX_DEVICE_POLLS)

    def callback_url(self, provider: str) -> str:
        """The redirect URI to register at the platform for ``provider``."""
        return f"{self.public_url}{SIGNIN_PATH}/{provider}/callback"

    def registers_callback(self, provider: str) -> bool:
        """Whether ``provider`` signs in with OAuth's code flow, whose redirect URI is ours."""
        settings = self.config.providers.get(provider)
        return settings is not None and settings.auth.mode == "oauth" and settings.oauth is not None

    def link_possible(self, provider: str) -> bool:
        """Whether a link can sign a person in to ``provider`` in its ``auth.mode``.

        A pasted token or a password needs the who-am-I call that checks it, a password the
        provider's ``exchange_password`` hook, a device code the ``oauth`` block.
        """
        settings = self.config.providers.get(provider)
        if settings is None:
            return False
        mode = settings.auth.mode
        if mode in ("oauth", "device"):
            return settings.oauth is not None
        checkable = whoami_setting(settings) is not None
        if mode == "password":
            return checkable and self._password_hook(provider) is not None
        return checkable

    def _password_hook(self, provider: str) -> Callable[..., Any] | None:
        from multichat.runtime.sign_in import provider_hook

        try:
            return provider_hook(self.config, provider, EXCHANGE_PASSWORD.name)
        except MultichatError:
            return None

    def link(self, provider: str, user: UserIdentity) -> str | None:
        """A fresh sign-in link for ``user``, or ``None`` when the provider has no OAuth flow."""
        if not self.link_possible(provider):
            return None
        ticket = secrets.token_urlsafe(32)
        with self._lock:
            self._tickets.put(ticket, _Ticket(user, provider, time.monotonic()))
        return f"{self.public_url}{SIGNIN_PATH}/{provider}?ticket={quote(ticket)}"

    def install(self, server: FastMCP[Any]) -> None:
        """Add the routes to ``server``'s HTTP app (outside MCP's bearer check)."""
        server.custom_route(f"{SIGNIN_PATH}/{{provider}}", methods=["GET"])(self.start)
        server.custom_route(f"{SIGNIN_PATH}/{{provider}}", methods=["POST"])(self.submit)
        server.custom_route(f"{SIGNIN_PATH}/{{provider}}/callback", methods=["GET"])(self.finish)

    def _flow(self, provider: str) -> AuthorizationFlow:
        with self._lock:
            flow = self._flows.get(provider)
            if flow is None:
                flow = AuthorizationFlow(self.config, provider, self.callback_url(provider))
                self._flows[provider] = flow
        return flow

    async def start(self, request: Request) -> Response:
        """Use up the ticket, then begin the sign-in the provider's ``auth.mode`` calls for."""
        provider = str(request.path_params["provider"])
        with self._lock:
            ticket = self._tickets.pop(request.query_params.get("ticket") or "", None)
        if ticket is None or not _live(ticket, provider):
            return message_page(
                "Sign-in link not valid",
                "This link is unknown, used or older than 10 minutes. Call the tool again "
                "for a new one.",
                400,
            )
        browser = secrets.token_urlsafe(32)
        mode = self.config.provider(provider).auth.mode
        if mode == "oauth":
            response = self._start_oauth(provider, ticket.user, browser)
        elif mode == "device":
            response = await self._start_device(provider, ticket.user)
        else:
            pending = _Pending(ticket.user, provider, _digest(browser), time.monotonic())
            response = self._form(provider, pending)
        if response.status_code < 400 and mode != "device":
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

    def _start_oauth(self, provider: str, user: UserIdentity, browser: str) -> Response:
        """Send the browser to the platform's consent page; the callback finishes."""
        try:
            url = self._flow(provider).authorization_url()
        except MultichatError as exc:
            return message_page("Cannot start sign-in", str(exc), 400)
        state = parse_qs(urlsplit(url).query)["state"][0]
        with self._lock:
            self._pending.put(state, _Pending(user, provider, _digest(browser), time.monotonic()))
        return RedirectResponse(url, status_code=302)

    def _form(
        self, provider: str, pending: _Pending, error: str | None = None, username: str = ""
    ) -> Response:
        """The token (or password) form, under a fresh one-use id bound to this browser.

        After a refusal the username typed is filled in again; a secret never is.
        """
        form_id = secrets.token_urlsafe(32)
        with self._lock:
            self._pending.put(form_id, pending)
        settings = self.config.provider(provider)
        if settings.auth.mode == "password":
            intro = f"Sign in with your own {provider} account. The password is used once, "
            intro += "to get a token, and is not kept."
            fields = [
                Field("username", "Username", value=username),
                Field("password", "Password", secret=True),
            ]
        elif settings.auth.scheme == "basic":
            intro = f"Paste your own {provider} API key, with the user (email) it belongs to."
            fields = [
                Field("username", "User (email)", value=username),
                Field("token", "API key", secret=True),
            ]
        else:
            intro = f"Paste your own {provider} token. It is checked with {provider}, then kept "
            intro += "for you only."
            fields = [Field("token", "Token", secret=True)]
        status = 400 if error else 200
        return form_page(
            f"Sign in to {provider}", intro, fields, form_id, error=error, status=status
        )

    async def submit(self, request: Request) -> Response:
        """Check the form's id and browser, sign in with what was typed, as that person only."""
        provider = str(request.path_params["provider"])
        form = await request.form()
        with self._lock:
            pending = self._pending.pop(str(form.get("form_id") or ""), None)
        if pending is None or not _live(pending, provider):
            return message_page(
                "Sign-in form not valid",
                "This form is unknown, used or older than 10 minutes. Call the tool again for "
                "a new link.",
                400,
            )
        if not hmac.compare_digest(
            _digest(request.cookies.get(_COOKIE, "")), pending.browser_digest
        ):
            return message_page(
                "Sign-in rejected", "this sign-in was started in another browser", 400
            )
        values = {key: str(value) for key, value in form.items() if isinstance(value, str)}
        try:
            with acting_as(pending.user):
                await self._sign_in_with_form(provider, values)
        except MultichatError as exc:
            logger.warning("sign-in failed user=%s provider=%s", pending.user.describe(), provider)
            # A refusal met as this person comes with a fresh link; on this page, the reason.
            text = f"{provider}: {exc.reason}" if isinstance(exc, SignInRequired) else str(exc)
            tries = pending.tries + 1
            if tries >= MAX_FORM_TRIES:
                return message_page(
                    "Sign-in failed", f"{text}. Call the tool again for a new link.", 400
                )
            username = values.get("username", "")
            return self._form(provider, replace(pending, tries=tries), text, username)
        except Exception as exc:  # a provider's hook failing: its text may hold what was typed
            logger.error(
                "sign-in failed user=%s provider=%s: the provider's code raised %s",
                pending.user.describe(),
                provider,
                type(exc).__name__,
            )
            return message_page(
                "Sign-in failed",
                f"{provider}'s sign-in failed on the server ({type(exc).__name__}); ask its "
                "administrator, whose log has the details.",
                500,
            )
        logger.info("signed in user=%s provider=%s", pending.user.describe(), provider)
        return self._signed_in(provider)

    async def _sign_in_with_form(self, provider: str, values: dict[str, str]) -> None:
        from multichat.runtime.sign_in import accept, exchange_password, token_credentials

        settings = self.config.provider(provider)
        username = values.get("username", "").strip()
        if settings.auth.mode == "password":
            hook = self._password_hook(provider)
            if hook is None:
                raise MultichatError(f"{provider} has no `exchange_password` hook on this server")
            if not username or not values.get("password"):
                raise MultichatError("give both the username and the password")
            await exchange_password(provider, hook, username, values["password"])
            return
        credentials = token_credentials(
            provider, settings.auth.scheme, values.get("token", ""), username or None, "the form"
        )
        await accept(provider, credentials, "token")

    async def _start_device(self, provider: str, user: UserIdentity) -> Response:
        """Ask the platform for a device code, show it, and poll for the token meanwhile."""
        import httpx2

        from multichat.runtime.device_flow import request_device_code
        from multichat.runtime.oauth import HTTP_TIMEOUT, resolve_settings

        try:
            settings = await anyio.to_thread.run_sync(
                lambda: resolve_settings(self.config, provider, need_authorize=False)
            )
            http = httpx2.Client(timeout=HTTP_TIMEOUT, headers={"Accept": "application/json"})
            code = await anyio.to_thread.run_sync(request_device_code, settings, http)
        except MultichatError as exc:
            return message_page("Cannot start sign-in", str(exc), 400)
        task = asyncio.get_running_loop().create_task(
            self._finish_device(provider, user, settings, code, http)
        )
        self._device_polls.add(task)
        task.add_done_callback(self._device_polls.discard)
        return device_page(
            provider, code.user_code, code.verification_uri, code.verification_uri_complete
        )

    async def _finish_device(
        self,
        provider: str,
        user: UserIdentity,
        settings: OAuthSettingsResolved,
        code: DeviceCode,
        http: httpx2.Client,
    ) -> None:
        """Poll until the person decides, then save their token (a failure is one log line)."""
        from multichat.runtime.device_flow import poll_for_token
        from multichat.runtime.sign_in import accept

        stop = threading.Event()

        def sleep(seconds: float) -> None:
            if stop.wait(seconds):
                raise DeviceSignInStopped(f"{provider}: the server stopped")

        try:
            # Abandoned on cancel (the server stopping): the poll's next sleep ends it, so no
            # worker thread keeps the process alive until the code expires.
            token = await anyio.to_thread.run_sync(
                lambda: poll_for_token(settings, code, http, sleep=sleep),
                abandon_on_cancel=True,
                limiter=self._device_limiter,
            )
            with acting_as(user):
                await accept(provider, token, "device")
        except MultichatError as exc:
            logger.warning(
                "sign-in failed user=%s provider=%s (%s)",
                user.describe(),
                provider,
                type(exc).__name__,
            )
            return
        finally:
            stop.set()
            http.close()
        logger.info("signed in user=%s provider=%s", user.describe(), provider)

    def _signed_in(self, provider: str) -> Response:
        response = message_page(
            "Signed in",
            f"Signed in to {provider}. You can close this tab and call the tool again.",
            200,
        )
        response.delete_cookie(_COOKIE, path=f"{SIGNIN_PATH}/{provider}")
        return response

    async def finish(self, request: Request) -> Response:
        """Check state and browser, exchange the code, save the token for that person only."""
        provider = str(request.path_params["provider"])
        params = request.query_params
        state = params.get("state") or ""
        with self._lock:
            pending = self._pending.pop(state, None)
        if pending is None or pending.provider != provider:
            return message_page("Sign-in rejected", "unknown or already used state", 400)
        browser = request.cookies.get(_COOKIE, "")
        if not hmac.compare_digest(_digest(browser), pending.browser_digest):
            return message_page(
                "Sign-in rejected", "this sign-in was started in another browser", 400
            )
        flow = self._flow(provider)
        try:
            verifier = flow.states.take(state)
        except InvalidState as exc:
            return message_page("Sign-in rejected", str(exc), 400)
        if params.get("error"):
            reason = str(params.get("error_description") or params["error"])
            return message_page("Sign-in did not complete", f"{provider}: {reason}", 400)
        code = params.get("code")
        if not code:
            return message_page("Sign-in did not complete", "the callback has no code", 400)
        try:
            token = await flow.exchange(code, verifier)
            with acting_as(pending.user):
                await check_and_save(provider, token)
        except MultichatError as exc:
            logger.warning("sign-in failed user=%s provider=%s", pending.user.describe(), provider)
            return message_page("Sign-in failed", str(exc), 400)
        logger.info("signed in user=%s provider=%s", pending.user.describe(), provider)
        return self._signed_in(provider)


def _live(entry: _Ticket | _Pending, provider: str) -> bool:
    """Whether ``entry`` is for ``provider`` and younger than :data:`TICKET_TTL_SECONDS`."""
    return entry.provider == provider and time.monotonic() - entry.created <= TICKET_TTL_SECONDS


def _digest(value: str) -> bytes:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).digest()
