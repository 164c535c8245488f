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
who-am-I call accepts it. Tickets and sign-ins under way live in :mod:`~.signin_entries`: in
Redis, with tokens there, so that every instance of the server takes any of them (once).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote, urlsplit

import anyio
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from multichat.errors import MultichatError
from multichat.runtime.auth_app import check_and_save
from multichat.runtime.config import WorkspaceConfig
from multichat.runtime.oauth import AuthorizationFlow
from multichat.runtime.sign_in_needs import EXCHANGE_PASSWORD, whoami_setting
from multichat.runtime.signin_entries import DeviceShown, Kind, SignInEntry, sign_in_entries
from multichat.runtime.signin_pages import Field, device_page, form_page, message_page
from multichat.runtime.token_store import TokenStoreError
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


class DeviceSignInStopped(MultichatError):
    """The server stopped while a person's device sign-in was waiting for them."""


class _StoreDown(Exception):
    """The shared store of sign-ins did not answer (its one line is logged)."""


class UserSignIn:
    """Sign-in links and their two routes, for one workspace served at ``public_url``."""

    def __init__(self, config: WorkspaceConfig, public_url: str) -> None:
        """Nothing is issued yet; flows are built per provider on first use.

        Raises:
            TokenStoreError: tokens are in Redis and it does not answer.
        """
        self.config = config
        self.public_url = public_url.rstrip("/")
        self._entries = sign_in_entries(config, TICKET_TTL_SECONDS, MAX_PENDING)
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
        self._entries.put("ticket", ticket, SignInEntry(user, provider, time.monotonic()))
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

    async def _take(self, kind: Kind, entry_id: str) -> SignInEntry | None:
        """Take an entry (out of the event loop: it may be a Redis round trip)."""
        entry: SignInEntry | None = await self._store_call(self._entries.take, kind, entry_id)
        return entry

    async def _put(self, kind: Kind, entry_id: str, entry: SignInEntry) -> None:
        await self._store_call(self._entries.put, kind, entry_id, entry)

    async def _store_call(self, function: Callable[..., Any], *args: Any) -> Any:
        try:
            return await anyio.to_thread.run_sync(function, *args)
        except TokenStoreError as exc:
            logger.error("sign-in store failed: %s", exc)
            raise _StoreDown from None

    async def start(self, request: Request) -> Response:
        """Use up the ticket, then begin the sign-in the provider's ``auth.mode`` calls for."""
        try:
            return await self._start(request)
        except _StoreDown:
            return _store_down_page()

    async def _start(self, request: Request) -> Response:
        provider = str(request.path_params["provider"])
        ticket_id = request.query_params.get("ticket") or ""
        ticket = await self._take("ticket", ticket_id)
        if ticket is None:
            shown = await self._device_shown(request, provider, ticket_id)
            if shown is not None:
                return shown
        if ticket is None or not _live(ticket, provider):
            return message_page(
                "Sign-in link not valid",
                "This link is unknown, used or older than 10 minutes. Call the tool again "
                "for a new one.",
                400,
            )
        browser = secrets.token_urlsafe(32)
        mode = self.config.provider(provider).auth.mode
        pending = SignInEntry(ticket.user, provider, time.monotonic(), _digest(browser))
        if mode == "oauth":
            response = await self._start_oauth(pending)
        elif mode == "device":
            response = await self._start_device(pending, ticket_id)
        else:
            response = await self._form(provider, pending)
        if response.status_code < 400:
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

    async def _start_oauth(self, pending: SignInEntry) -> Response:
        """Send the browser to the platform's consent page; the callback (any instance) finishes.

        The PKCE verifier goes with the pending sign-in, so the instance the platform sends the
        browser back to has it.
        """
        try:
            flow = self._flow(pending.provider)
            url = flow.authorization_url()
        except MultichatError as exc:
            return message_page("Cannot start sign-in", str(exc), 400)
        state = parse_qs(urlsplit(url).query)["state"][0]
        verifier = flow.states.take(state)
        await self._put("pending", state, replace(pending, verifier=verifier))
        return RedirectResponse(url, status_code=302)

    async def _form(
        self, provider: str, pending: SignInEntry, error: str | None = None, username: str = ""
    ) -> Response:
        """The token (or password) form, under a fresh one-use id bound to this browser.

        After a refusal the username typed is filled in again; a secret never is.
        """
        form_id = secrets.token_urlsafe(32)
        await self._put("pending", form_id, pending)
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
        try:
            return await self._submit(request)
        except _StoreDown:
            return _store_down_page()

    async def _submit(self, request: Request) -> Response:
        provider = str(request.path_params["provider"])
        form = await request.form()
        pending = await self._take("pending", str(form.get("form_id") or ""))
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
            return await self._form(provider, replace(pending, tries=tries), text, username)
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

    async def _start_device(self, pending: SignInEntry, ticket_id: str) -> Response:
        """Ask the platform for a device code, show it, and poll for the token meanwhile.

        What the page shows is kept under the ticket, so that the browser that opened the link
        sees it again on a reload, whichever instance answers; polling stays on this one.
        """
        import httpx2

        from multichat.runtime.device_flow import request_device_code
        from multichat.runtime.oauth import HTTP_TIMEOUT, resolve_settings

        provider = pending.provider
        try:
            settings = await anyio.to_thread.run_sync(
                lambda: resolve_settings(self.config, provider, need_authorize=False)
            )
            http = httpx2.Client(timeout=HTTP_TIMEOUT, headers={"Accept": "application/json"})
            code = await anyio.to_thread.run_sync(request_device_code, settings, http)
        except MultichatError as exc:
            return message_page("Cannot start sign-in", str(exc), 400)
        shown = DeviceShown(code.user_code, code.verification_uri, code.verification_uri_complete)
        device = replace(pending, device=shown)
        try:
            await self._put("device", ticket_id, device)
        except _StoreDown:
            http.close()
            raise
        task = asyncio.get_running_loop().create_task(
            self._finish_device(device, ticket_id, settings, code, http)
        )
        self._device_polls.add(task)
        task.add_done_callback(self._device_polls.discard)
        return device_page(provider, shown.user_code, shown.verification_uri, shown.complete)

    async def _device_shown(
        self, request: Request, provider: str, ticket_id: str
    ) -> Response | None:
        """The device sign-in a used ticket began, again, for the browser that began it."""
        if not ticket_id:
            return None
        entry = await self._store_call(self._entries.peek, "device", ticket_id)
        if entry is None or entry.device is None or not _live(entry, provider):
            return None
        browser = _digest(request.cookies.get(_COOKIE, ""))
        if not hmac.compare_digest(browser, entry.browser_digest):
            return None
        shown = entry.device
        if shown.outcome == "signed-in":
            return self._signed_in(provider)
        if shown.outcome:
            return message_page(
                "Sign-in did not complete",
                f"{provider} did not give access. Call the tool again for a new link.",
                400,
            )
        return device_page(provider, shown.user_code, shown.verification_uri, shown.complete)

    async def _finish_device(
        self,
        device: SignInEntry,
        ticket_id: str,
        settings: OAuthSettingsResolved,
        code: DeviceCode,
        http: httpx2.Client,
    ) -> None:
        """Poll until the person decides, then save their token (a failure is one log line).

        The outcome is kept with what the page shows, for a reload of it.
        """
        provider, user = device.provider, device.user
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
            await self._device_outcome(device, ticket_id, "failed")
            return
        finally:
            stop.set()
            http.close()
        logger.info("signed in user=%s provider=%s", user.describe(), provider)
        await self._device_outcome(device, ticket_id, "signed-in")

    async def _device_outcome(self, device: SignInEntry, ticket_id: str, outcome: str) -> None:
        if device.device is None:
            return
        shown = replace(device.device, outcome=outcome)
        with contextlib.suppress(_StoreDown):  # logged; the page keeps showing the code
            await self._put("device", ticket_id, replace(device, device=shown))

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
        try:
            return await self._finish(request)
        except _StoreDown:
            return _store_down_page()

    async def _finish(self, request: Request) -> Response:
        provider = str(request.path_params["provider"])
        params = request.query_params
        state = params.get("state") or ""
        pending = await self._take("pending", state) if state else None
        if pending is None or pending.provider != provider or not pending.verifier:
            return message_page("Sign-in rejected", "unknown or already used state", 400)
        if not _live(pending, provider):
            return message_page(
                "Sign-in rejected",
                "the sign-in took longer than 10 minutes: call the tool again for a new link",
                400,
            )
        browser = request.cookies.get(_COOKIE, "")
        if not hmac.compare_digest(_digest(browser), pending.browser_digest):
            return message_page(
                "Sign-in rejected", "this sign-in was started in another browser", 400
            )
        flow = self._flow(provider)
        verifier = pending.verifier
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


def _store_down_page() -> Response:
    return message_page(
        "Sign-in unavailable",
        "The server cannot reach its store right now. Try again in a minute.",
        503,
    )


def _live(entry: SignInEntry, provider: str) -> bool:
    """Whether ``entry`` is for ``provider`` and younger than :data:`TICKET_TTL_SECONDS`."""
    return entry.provider == provider and time.monotonic() - entry.created <= TICKET_TTL_SECONDS


def _digest(value: str) -> bytes:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).digest()
