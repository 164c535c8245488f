"""``create_app``: the sandbox's FastAPI application, its state and its error shapes."""

from __future__ import annotations

import collections
import logging
import secrets
import shutil
import tempfile
import weakref
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from multichat import __version__
from multichat.sandbox import admin, chat_api, device_page, oauth_server, token_page
from multichat.sandbox.accounts import seed_passwords
from multichat.sandbox.db import Database
from multichat.sandbox.errors import ApiError, OAuthError
from multichat.sandbox.faults import Faults, install_faults
from multichat.sandbox.oauth_store import register_client
from multichat.sandbox.personal_tokens import seed_personal_tokens
from multichat.sandbox.scopes import ALL_SCOPES
from multichat.sandbox.seed import seed_database
from multichat.sandbox.settings import (
    SANDBOX_CLIENT_ID,
    SANDBOX_CLIENT_NAME,
    SANDBOX_REDIRECT_URI,
    SandboxSettings,
)

logger = logging.getLogger(__name__)

_HTTP_CODES = {401: "unauthorized", 403: "forbidden", 404: "not_found", 429: "rate_limited"}


def _error(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": code, "message": message}}, status_code=status, headers=headers
    )


def _install_error_handlers(app: FastAPI) -> None:
    async def api_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)  # registered for ApiError only
        return _error(exc.status, exc.code, exc.message, exc.headers)

    async def oauth_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, OAuthError)  # registered for OAuthError only
        body = {"error": exc.error, "error_description": exc.description}
        return JSONResponse(body, status_code=exc.status)

    async def invalid(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)  # registered for it only
        problems = [
            f"{'.'.join(str(part) for part in error.get('loc', ()))}: {error.get('msg', '')}"
            for error in exc.errors()
        ]
        return _error(400, "invalid_request", "; ".join(problems) or "invalid request")

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)  # registered for it only
        status = exc.status_code
        code = _HTTP_CODES.get(status, "server_error" if status >= 500 else "invalid_request")
        return _error(status, code, str(exc.detail), dict(exc.headers or {}))

    async def crash(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("sandbox request failed: %s %s", request.method, request.url.path)
        return _error(500, "server_error", "the sandbox failed to handle this request")

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(OAuthError, oauth_error)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, crash)


def _remove_temp_db(db: Database, folder: str) -> None:
    db.close()
    shutil.rmtree(folder, ignore_errors=True)


def create_app(
    db_path: Path | None = None,
    *,
    seed: bool = True,
    token_ttl: int = 3600,
    faults: Faults | None = None,
    code_ttl: float = 60,
    admin_token: str | None = None,
    device_code_ttl: float = 600,
    device_interval: int = 5,
) -> FastAPI:
    """The sandbox platform: OAuth server at ``/oauth``, chat API at ``/api/v1``, ``/admin``.

    People sign in with the seeded passwords (``SANDBOX_PASSWORDS``) on ``/settings/tokens``
    (personal access tokens) and ``/device`` (the device flow's verification page).

    Args:
        db_path: SQLite file to use (created if missing); None for a temporary one that is
            deleted with the app.
        seed: fill an empty database with the seeded team conversation; with False, only the
            people and channels are created (no messages).
        token_ttl: lifetime of access tokens in seconds.
        faults: fault knobs to start with (default: all off).
        code_ttl: lifetime of authorization codes in seconds.
        admin_token: the ``X-Sandbox-Admin`` token of ``/admin``; None picks a random one.
        device_code_ttl: lifetime of device codes in seconds.
        device_interval: seconds a device must wait between polls (0: no wait).
    """
    app = FastAPI(
        title="multichat sandbox",
        version=__version__,
        description="A small chat platform: OAuth 2.0 authorization server and chat REST API.",
    )
    if db_path is None:
        folder = tempfile.mkdtemp(prefix="multichat-sandbox-")
        db = Database(Path(folder) / "sandbox.db")
        weakref.finalize(app, _remove_temp_db, db, folder)
    else:
        db = Database(Path(db_path))
    seed_database(db, messages=seed)
    seed_passwords(db)
    seed_personal_tokens(db)
    register_client(
        db, SANDBOX_CLIENT_ID, SANDBOX_CLIENT_NAME, [SANDBOX_REDIRECT_URI], scopes=ALL_SCOPES
    )
    app.state.db = db
    app.state.db_path = db.path
    app.state.settings = SandboxSettings(
        token_ttl=token_ttl,
        code_ttl=code_ttl,
        device_code_ttl=device_code_ttl,
        device_interval=device_interval,
    )
    app.state.admin_token = admin_token or secrets.token_urlsafe(24)
    app.state.token_requests = collections.Counter()
    install_faults(app, faults)
    _install_error_handlers(app)
    app.include_router(oauth_server.router)
    app.include_router(chat_api.router)
    app.include_router(token_page.router)
    app.include_router(device_page.router)
    app.include_router(admin.router)

    @app.get("/.well-known/oauth-authorization-server", tags=["oauth"])
    def authorization_server_metadata(request: Request) -> dict[str, Any]:
        """RFC 8414 metadata: where the endpoints are and what they support."""
        return oauth_server.metadata(str(request.base_url).rstrip("/"))

    @app.get("/.well-known/openid-configuration", tags=["oauth"])
    def openid_configuration(request: Request) -> dict[str, Any]:
        """The same metadata where OpenID discovery looks for it (RFC 8414 §5; no ID tokens)."""
        return oauth_server.metadata(str(request.base_url).rstrip("/"))

    @app.get("/", tags=["meta"])
    def index(request: Request) -> dict[str, Any]:
        """Where everything is, and the client id to sign in with."""
        base = str(request.base_url).rstrip("/")
        return {
            "name": "multichat sandbox",
            "client_id": SANDBOX_CLIENT_ID,
            "redirect_uri": SANDBOX_REDIRECT_URI,
            "authorize_url": f"{base}/oauth/authorize",
            "token_url": f"{base}/oauth/token",
            "device_authorization_url": f"{base}/oauth/device_authorization",
            "revoke_url": f"{base}/oauth/revoke",
            "userinfo_url": f"{base}/oauth/userinfo",
            "device_url": f"{base}/device",
            "personal_tokens_url": f"{base}/settings/tokens",
            "metadata_url": f"{base}/.well-known/oauth-authorization-server",
            "api_base_url": f"{base}/api/v1",
            "openapi_url": f"{base}/openapi.json",
        }

    return app
