"""The FastAPI app behind a provider's ``server_auth.py``: /auth, /auth/callback, /status."""

from __future__ import annotations

import logging
import sys
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from multichat.runtime.config import load_config
from multichat.runtime.provider_auth import provider_auth

logger = logging.getLogger(__name__)


def build_auth_app(provider: str) -> FastAPI:
    """The local auth app of ``provider``; it shares the provider's in-memory token."""
    app = FastAPI(title=f"{provider} auth", docs_url=None, redoc_url=None)
    auth = provider_auth(provider)

    @app.get("/status")
    def status() -> dict[str, Any]:
        """Whether a usable token is stored, its expiry and scopes; never the token."""
        return auth.status()

    @app.get("/auth")
    def start() -> JSONResponse:
        """Start the OAuth flow (lands with the OAuth work; until then says so plainly)."""
        return _flow_unavailable(provider)

    @app.get("/auth/callback")
    def callback() -> JSONResponse:
        """Finish the OAuth flow (lands with the OAuth work; until then says so plainly)."""
        return _flow_unavailable(provider)

    return app


def _flow_unavailable(provider: str) -> JSONResponse:
    return JSONResponse(
        status_code=501,
        content={
            "error": "not_implemented",
            "detail": (
                f"this multichat cannot run the OAuth flow for {provider} yet; "
                "save a token with save_credentials() or upgrade multichat"
            ),
        },
    )


def run_auth_server(
    app: FastAPI, provider: str, host: str = "127.0.0.1", port: int | None = None
) -> None:
    """Serve ``app`` with uvicorn on ``host`` and the provider's configured port."""
    import uvicorn

    chosen_port = port or load_config().provider(provider).port or 8000
    print(f"{provider} auth server on http://{host}:{chosen_port}/auth", file=sys.stderr)
    uvicorn.run(app, host=host, port=chosen_port, log_level="warning")
