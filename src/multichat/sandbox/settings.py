"""What one sandbox app holds in ``app.state``, and typed accessors for request handlers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from starlette.requests import Request

from multichat.sandbox.db import Database

SANDBOX_CLIENT_ID = "multichat-sandbox"
SANDBOX_CLIENT_NAME = "multichat (sandbox)"
SANDBOX_REDIRECT_URI = "http://127.0.0.1/auth/callback"
SANDBOX_USERNAME = "ada"


@dataclass
class SandboxSettings:
    """Lifetimes (seconds) of what the authorization server issues; change them at any time."""

    token_ttl: float = 3600
    code_ttl: float = 60
    refresh_ttl: float = 30 * 24 * 3600
    consent_ttl: float = 600
    signed_in_username: str = SANDBOX_USERNAME
    # RFC 8628 §3.2: how long a device code lives, and the seconds a device waits between polls
    # (5 when a server says nothing); 0 lets tests poll without waiting.
    device_code_ttl: float = 600
    device_interval: int = 5
    # How long the forms of /settings/tokens and /device may wait to be submitted.
    form_ttl: float = 600


def db_of(request: Request) -> Database:
    """The database of the app serving ``request``."""
    return cast(Database, request.app.state.db)


def settings_of(request: Request) -> SandboxSettings:
    """The settings of the app serving ``request``."""
    return cast(SandboxSettings, request.app.state.settings)
