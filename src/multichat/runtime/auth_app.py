"""The FastAPI app behind a provider's ``server_auth.py``: /auth, /auth/callback, /status.

``/auth`` redirects to the platform with a fresh state and a PKCE challenge; the redirect URI is
the configured ``callback_url`` and nothing else (there is no ``callback_url`` parameter).
``/auth/callback`` checks the state, exchanges the code and saves the token. ``/status`` says
whether a token is stored, never what it is.
"""

from __future__ import annotations

import html
import logging
import sys
import threading
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, ConfigDict

from multichat.errors import MultichatError
from multichat.runtime.config import load_config
from multichat.runtime.host_guard import LoopbackHostGuard
from multichat.runtime.oauth import AuthorizationFlow, InvalidState
from multichat.runtime.token_access import provider_auth

logger = logging.getLogger(__name__)


@dataclass
class SignInOutcome:
    """How the last sign-in through this app ended; ``multichat auth`` waits on ``done``."""

    done: threading.Event = field(default_factory=threading.Event)
    succeeded: bool = False
    message: str = ""

    def finish(self, succeeded: bool, message: str) -> None:
        """Record the outcome and wake whoever waits."""
        self.succeeded = succeeded
        self.message = message
        self.done.set()


class TokenStatus(BaseModel):
    """What ``/status`` reports: whether a usable token is stored, never the token itself."""

    model_config = ConfigDict(extra="allow")

    provider: str
    authenticated: bool
    token_path: str
    token_file: bool
    expires_at: str | None
    expires_in_seconds: int | None
    scopes: list[str]
    age_seconds: int | None
    error: str | None = None


def _html(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"text/html": {"schema": {"type": "string"}}}}


# Every answer the routes give, so that the OpenAPI description holds for any request.
_START_RESPONSES: dict[int | str, dict[str, Any]] = {
    302: {"description": "Redirect to the platform's consent page"},
    400: _html("The sign-in cannot start: the provider's OAuth settings are incomplete"),
}
_CALLBACK_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: _html("Signed in: the token is saved"),
    400: _html("Rejected state, access not granted, no code, or a failed code exchange"),
}


def html_page(title: str, text: str, status: int) -> HTMLResponse:
    """A small HTML page with a title and one escaped paragraph: what a sign-in ends on."""
    body = (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title></head>"
        "<body style='font-family: sans-serif; max-width: 40em; margin: 4em auto'>"
        f"<h1>{html.escape(title)}</h1><p>{html.escape(text)}</p></body></html>"
    )
    return HTMLResponse(body, status_code=status)


def build_auth_app(provider: str) -> FastAPI:
    """The local auth app of ``provider``; it shares the provider's in-memory token."""
    app = FastAPI(title=f"{provider} sign-in", docs_url=None, redoc_url=None)
    app.add_middleware(LoopbackHostGuard)
    auth = provider_auth(provider)
    outcome = SignInOutcome()
    flows: list[AuthorizationFlow] = []
    app.state.multichat_outcome = outcome

    def flow() -> AuthorizationFlow:
        if not flows:
            flows.append(AuthorizationFlow(load_config(), provider))
        return flows[0]

    @app.get("/status", response_model=TokenStatus, response_model_exclude_unset=True)
    def status() -> dict[str, Any]:
        """Whether a usable token is stored, its expiry, scopes and age; never the token."""
        return auth.status()

    @app.get(
        "/auth",
        response_class=RedirectResponse,
        status_code=302,
        response_model=None,
        responses=_START_RESPONSES,
    )
    def start() -> RedirectResponse | HTMLResponse:
        """Redirect to the platform's consent page."""
        try:
            url = flow().authorization_url()
        except MultichatError as exc:
            return html_page("Cannot start sign-in", str(exc), 400)
        return RedirectResponse(url, status_code=302)

    @app.get("/auth/callback", response_class=HTMLResponse, responses=_CALLBACK_RESPONSES)
    async def callback(
        code: str | None = None,
        state: str | None = None,
        error: str | None = None,
        error_description: str | None = None,
    ) -> HTMLResponse:
        """Check the state, exchange the code, save the token."""
        try:
            verifier = flow().states.take(state)
        except InvalidState as exc:
            logger.warning("%s: rejected a sign-in callback: %s", provider, exc)
            return html_page("Sign-in rejected", str(exc), 400)
        except MultichatError as exc:
            return html_page("Cannot finish sign-in", str(exc), 400)
        if error:
            reason = f"{error}: {error_description}" if error_description else error
            message = f"{provider}: the platform did not grant access ({reason})"
            outcome.finish(False, message)
            return html_page("Sign-in did not complete", message, 400)
        if not code:
            return html_page("Sign-in did not complete", "the callback has no code parameter", 400)
        try:
            token = await flow().exchange(code, verifier)
            await check_and_save(provider, token)
        except MultichatError as exc:
            outcome.finish(False, str(exc))
            return html_page("Sign-in failed", str(exc), 400)
        message = f"Signed in to {provider}. You can close this tab."
        outcome.finish(True, message)
        return html_page("Signed in", message, 200)

    return app


async def check_and_save(provider: str, token: dict[str, Any]) -> None:
    """Save the new token, once the who-am-I call accepts it where the provider has one."""
    from multichat.runtime.sign_in import accept
    from multichat.runtime.sign_in_needs import whoami_setting

    settings = load_config().provider(provider)
    if whoami_setting(settings):
        await accept(provider, token, "oauth")
    else:
        provider_auth(provider).save_credentials({**token, "mode": "oauth"})


def run_auth_server(
    app: FastAPI, provider: str, host: str = "127.0.0.1", port: int | None = None
) -> None:
    """Serve ``app`` with uvicorn on ``host`` and the provider's configured port."""
    import uvicorn

    chosen_port = port or load_config().provider(provider).port or 8000
    print(f"{provider} sign-in: open http://{host}:{chosen_port}/auth", file=sys.stderr)
    uvicorn.run(app, host=host, port=chosen_port, log_level="warning")
