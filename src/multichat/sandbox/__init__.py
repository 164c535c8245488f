"""The built-in sandbox chat platform: an OAuth 2.0 server and a chat REST API over SQLite.

``multichat sandbox`` serves it; tests and the demo use :class:`SandboxServer` or
:func:`create_app`. It imports FastAPI and uvicorn, never the CLI, Copier or Typer.
"""

from multichat.sandbox.app import create_app
from multichat.sandbox.db import Database
from multichat.sandbox.faults import Faults, get_faults, set_faults
from multichat.sandbox.oauth_store import issue_tokens, register_client
from multichat.sandbox.seed import create_channel, seed_channel, seed_database
from multichat.sandbox.seed_data import SANDBOX_PASSWORDS, SANDBOX_PERSONAL_TOKENS
from multichat.sandbox.server import SandboxServer
from multichat.sandbox.settings import (
    SANDBOX_CLIENT_ID,
    SANDBOX_CLIENT_NAME,
    SANDBOX_REDIRECT_URI,
    SANDBOX_USERNAME,
)

__all__ = [
    "SANDBOX_CLIENT_ID",
    "SANDBOX_CLIENT_NAME",
    "SANDBOX_PASSWORDS",
    "SANDBOX_PERSONAL_TOKENS",
    "SANDBOX_REDIRECT_URI",
    "SANDBOX_USERNAME",
    "Database",
    "Faults",
    "SandboxServer",
    "create_app",
    "create_channel",
    "get_faults",
    "issue_tokens",
    "register_client",
    "seed_channel",
    "seed_database",
    "set_faults",
]
