"""Helpers of the end-to-end tests: real subprocesses, real MCP clients, bounded waits."""

from __future__ import annotations

import contextlib
import json
import subprocess
import textwrap
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from helpers import LinePump

#: Upper bound for any single wait on a subprocess or a server (never a timing assertion).
DEADLINE = 60.0


# ---- processes and environment ---------------------------------------------------------------


def assert_user_error(result: subprocess.CompletedProcess[str], code: int = 2) -> str:
    """A user error: exit ``code``, exactly one line on stderr, no traceback; returns the line."""
    lines = result.stderr.strip().splitlines()
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    assert len(lines) == 1, result.stderr
    return lines[0]


def http_get(url: str, timeout: float = 5.0) -> tuple[int, bytes]:
    """``GET url``: the status code and body, HTTP errors included (no exception for 4xx/5xx)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return int(response.status), response.read()
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read()


def wait_for_http(
    url: str, process: subprocess.Popen[Any], log: Path | None = None, timeout: float = DEADLINE
) -> tuple[int, bytes]:
    """Poll ``url`` until it answers at all (any status), failing early if ``process`` exits."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            detail = log.read_text(errors="replace") if log is not None else ""
            pytest.fail(f"server exited with {process.returncode} before answering:\n{detail}")
        try:
            return http_get(url, timeout=2.0)
        except (OSError, urllib.error.URLError) as exc:
            last_error = exc
        time.sleep(0.1)
    detail = log.read_text(errors="replace") if log is not None else ""
    pytest.fail(f"{url} did not answer within {timeout}s ({last_error}):\n{detail}")


# ---- MCP clients -----------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def stdio_client(
    command: str, args: list[str], cwd: Path, log_file: Path | None = None
) -> AsyncIterator[Any]:
    """A connected fastmcp ``Client`` over stdio to ``command args`` run in ``cwd``.

    The child gets the MCP SDK's minimal default environment (as real MCP clients give it), so
    it must find its workspace from ``cwd`` alone. The subprocess is stopped on exit.
    """
    from fastmcp import Client
    from fastmcp.client.transports import StdioTransport

    transport = StdioTransport(
        command=command, args=args, cwd=str(cwd), keep_alive=False, log_file=log_file
    )
    try:
        async with Client(transport, timeout=DEADLINE, init_timeout=DEADLINE) as client:
            yield client
    finally:
        await transport.close()


async def tool_names(client: Any) -> list[str]:
    """Sorted names of the tools the server lists."""
    return sorted(tool.name for tool in await client.list_tools())


# ---- workspaces ------------------------------------------------------------------------------


# ---- a provider written by hand, exactly as GUIDE.md shows -----------------------------------

GUIDE_CONFIG_ENTRY = """\
  {name}:  # 🔴 MUST match directory name exactly
    name: "Chat Platform"
    description: "ChatPlatform provider written by hand from the guide"
    token_path: "src/providers/{name}/token.json"
    credentials_path: "src/providers/{name}/credentials.json"
    callback_url: "http://localhost:{port}/auth/callback"
    port: {port}
    scopes:
      - "your_required_scope1"
      - "your_required_scope2"
"""

_GUIDE_MCP_INSTANCE = '''\
"""MCP instance for ChatPlatform provider."""

import logging
from fastmcp import FastMCP
from src.mcp_core.engine.provider_loader import get_provider_config_value
from src.mcp_core.tools.tool_decorator import tool_decorator_factory

logger = logging.getLogger(__name__)

# 🔴 CRITICAL: Must match directory name and config key
PROVIDER_NAME = "{name}"

# Get config values
name = get_provider_config_value(PROVIDER_NAME, "name")
description = get_provider_config_value(PROVIDER_NAME, "description")

# Create MCP instance
logger.info(f"Creating FastMCP instance for {{name}}")
mcp = FastMCP(name, {keyword}=description)

# 🔴 CRITICAL: Create centralized tool decorator
tool = tool_decorator_factory(PROVIDER_NAME, mcp)
'''

# The guide's api/auth.py; it leaves its helpers (create_credentials_from_token, is_expired, ...)
# to the reader, so they are filled in here, and `requests` is not imported.
_GUIDE_API_AUTH = '''\
"""Authentication management for ChatPlatform."""

import datetime
import json
import logging
import os
import sys
from typing import Optional, Dict, Any
from pathlib import Path

from src.mcp_core.engine.provider_loader import get_provider_config_value

logger = logging.getLogger(__name__)
PROVIDER_NAME = "{name}"

# Get configuration
DEFAULT_TOKEN_PATH = get_provider_config_value(PROVIDER_NAME, "token_path")
CREDENTIALS_PATH = get_provider_config_value(PROVIDER_NAME, "credentials_path")
SCOPES = get_provider_config_value(PROVIDER_NAME, "scopes")

# Make token path absolute
if not os.path.isabs(DEFAULT_TOKEN_PATH):
    project_root = os.path.abspath(os.path.join(os.path.dirname(__file__), '../../../../'))
    DEFAULT_TOKEN_PATH = os.path.join(project_root, DEFAULT_TOKEN_PATH)

# 🔴 CRITICAL: Module-level token storage for sharing across imports
if not hasattr(sys.modules[__name__], '_token_info'):
    setattr(sys.modules[__name__], '_token_info', {{
        'credentials': None,
        'last_refresh': None,
        'token_path': DEFAULT_TOKEN_PATH
    }})

def get_token_info() -> Dict[str, Any]:
    return getattr(sys.modules[__name__], '_token_info')

token_info = get_token_info()


def create_credentials_from_token(token_data):
    return dict(token_data)


def serialize_credentials(creds):
    return dict(creds)


def is_expired(creds):
    expires_at = creds.get("expires_at")
    return expires_at is not None and expires_at <= datetime.datetime.now().timestamp()


def is_valid(creds):
    return bool(creds.get("access_token"))


def refresh_credentials(creds):
    raise RuntimeError("refresh is not wired in this example")


async def exchange_code_for_token(code):
    raise RuntimeError("code exchange is not wired in this example")


def get_credentials(token_path: Optional[str] = None):
    """
    🔴 CRITICAL: This function MUST work - all API calls depend on it.

    Returns valid credentials or None if authentication needed.
    """
    token_info = get_token_info()

    if token_path is None:
        token_path = token_info['token_path']

    creds = token_info['credentials']

    # Load from file if not in memory
    if not creds:
        token_path = Path(token_path)
        if token_path.exists():
            try:
                with open(token_path, 'r') as f:
                    token_data = json.load(f)
                    creds = create_credentials_from_token(token_data)
                    token_info['credentials'] = creds
            except Exception as e:
                logger.error(f"Error loading credentials: {{e}}")
                return None

    # Refresh if needed
    if creds and is_expired(creds):
        try:
            creds = refresh_credentials(creds)
            save_credentials(creds)
        except Exception as e:
            logger.error(f"Error refreshing credentials: {{e}}")
            return None

    return creds if (creds and is_valid(creds)) else None

def save_credentials(creds, token_path: Optional[str] = None):
    """Save credentials to file and memory."""
    token_info = get_token_info()

    if token_path is None:
        token_path = token_info['token_path']

    # Save to file
    with open(token_path, 'w') as f:
        json.dump(serialize_credentials(creds), f)

    # Update memory
    token_info['credentials'] = creds
    token_info['last_refresh'] = datetime.datetime.utcnow()
'''

_GUIDE_SERVER_AUTH = '''\
"""OAuth authentication server for ChatPlatform."""

import asyncio
import json
import signal
from typing import Optional

import uvicorn
from fastapi import FastAPI, HTTPException, Query
from fastapi.responses import RedirectResponse, JSONResponse

from src.providers.{name}.api.auth import (
    get_credentials, save_credentials, exchange_code_for_token, create_credentials_from_token
)
from src.mcp_core.engine.provider_loader import get_provider_config_value

PROVIDER_NAME = "{name}"

# Get configuration
CREDENTIALS_PATH = get_provider_config_value(PROVIDER_NAME, "credentials_path")
CALLBACK_URL = get_provider_config_value(PROVIDER_NAME, "callback_url")
SCOPES = get_provider_config_value(PROVIDER_NAME, "scopes")

app = FastAPI(title="ChatPlatform Auth Server")

@app.get("/auth")
async def start_auth(callback_url: Optional[str] = Query(None)):
    """Start OAuth flow."""
    try:
        if get_credentials():
            return JSONResponse(content={{"message": "Already authenticated"}})

        # Load client credentials
        with open(CREDENTIALS_PATH, 'r') as f:
            client_creds = json.load(f)

        # 🟡 CUSTOMIZE: Build authorization URL for your provider
        auth_url = (
            f"https://auth.chatplatform.com/oauth/authorize"
            f"?client_id={{client_creds['client_id']}}"
            f"&redirect_uri={{callback_url or CALLBACK_URL}}"
            f"&scope={{' '.join(SCOPES)}}"
            f"&response_type=code"
        )

        return RedirectResponse(auth_url)
    except Exception as e:
        raise HTTPException(status_code=500, detail=str(e))

@app.get("/auth/callback")
async def auth_callback(code: str = Query(...)):
    """Handle OAuth callback."""
    try:
        token_data = await exchange_code_for_token(code)
        creds = create_credentials_from_token(token_data)
        save_credentials(creds)
        return JSONResponse(content={{"message": "Authentication successful"}})
    except Exception as e:
        raise HTTPException(status_code=500, detail=str(e))

@app.get("/status")
async def check_auth_status():
    """Check authentication status."""
    creds = get_credentials()
    return {{"authenticated": bool(creds)}}

# 🔴 CRITICAL: This function is called by server.py for local auth
def run_auth_server(host: str = "localhost", port: int = 8000):
    """Run auth server with signal handling."""
    config = uvicorn.Config(app, host=host, port=port)
    server = uvicorn.Server(config)

    def signal_handler(signum, frame):
        print("\\nShutting down auth server...")
        asyncio.create_task(server.shutdown())

    signal.signal(signal.SIGINT, signal_handler)
    signal.signal(signal.SIGTERM, signal_handler)

    print(f"\\nAuth server running at: http://{{host}}:{{port}}")
    server.run()
'''

# The guide's api/messaging.py, with the standard library instead of `requests`.
_GUIDE_MESSAGING = '''\
# api/messaging.py - Your custom API module
import asyncio
import json
import urllib.request

from src.providers.{name}.api.auth import get_credentials


async def send_message(room_id: str, text: str):
    """Send message using ChatPlatform API."""
    # 🔴 CRITICAL: Always get credentials first
    creds = get_credentials()
    if not creds:
        raise Exception("Not authenticated")

    # Your custom API call
    request = urllib.request.Request(
        f"https://api.chatplatform.com/rooms/{{room_id}}/messages",
        data=json.dumps({{"text": text}}).encode(),
        headers={{"Authorization": f"Bearer {{creds['access_token']}}"}},
        method="POST",
    )
    response = await asyncio.to_thread(urllib.request.urlopen, request)
    return json.loads(response.read())
'''

_GUIDE_TOOLS = '''\
# tools/chat_tools.py - Your custom tools
import logging

from src.providers.{name}.mcp_instance import tool
from src.providers.{name}.api.messaging import send_message

logger = logging.getLogger(__name__)


@tool()
async def send_chat_message_tool(room_id: str, message: str) -> dict:
    """Send a message to a chat room.

    Args:
        room_id: The room to post in, e.g. "general".
        message: The text to send.
    """
    logger.info("sending a message to %s", room_id)
    try:
        return await send_message(room_id, message)
    except Exception as e:
        raise Exception(f"Could not send the message: {{e}}") from e


@tool()
def room_url_tool(room_id: str) -> str:
    """The web address of a chat room (needs no sign-in)."""
    return f"https://chatplatform.com/rooms/{{room_id}}"
'''


def write_guide_provider(
    workspace: Path, name: str = "chatplatform", *, keyword: str = "instructions", port: int = 8765
) -> Path:
    """Write a provider by hand as GUIDE.md shows (no ``__init__.py`` files, as in its tree).

    ``keyword`` is the FastMCP argument that receives the description: ``instructions`` (what
    FastMCP 4 takes) or ``description`` (the guide's literal code, which FastMCP 4 rejects).
    The provider's entry is appended under ``providers:`` in ``provider-config.yaml``.
    """
    folder = workspace / "src" / "providers" / name
    files = {
        "mcp_instance.py": _GUIDE_MCP_INSTANCE.format(name=name, keyword=keyword),
        "api/auth.py": _GUIDE_API_AUTH.format(name=name),
        "server_auth.py": _GUIDE_SERVER_AUTH.format(name=name),
        "api/messaging.py": _GUIDE_MESSAGING.format(name=name),
        "tools/chat_tools.py": _GUIDE_TOOLS.format(name=name),
    }
    for relative, text in files.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    config = workspace / "provider-config.yaml"
    text = config.read_text(encoding="utf-8")
    if not text.endswith("\n"):
        text += "\n"
    config.write_text(text + GUIDE_CONFIG_ENTRY.format(name=name, port=port), encoding="utf-8")
    return folder


# ---- a raw JSON-RPC session over a subprocess's pipes ----------------------------------------


def send_json(process: subprocess.Popen[str], message: dict[str, Any]) -> None:
    """Write one newline-delimited JSON-RPC message to the process's stdin."""
    assert process.stdin is not None
    process.stdin.write(json.dumps(message) + "\n")
    process.stdin.flush()


def wait_for_response(reader: LinePump, request_id: int, deadline: float) -> dict[str, Any]:
    """Read stdout lines until the response to ``request_id`` arrives."""
    while True:
        line = reader.next_line(deadline)
        if line is None:
            pytest.fail(f"stdout closed before the response to request {request_id}")
        message = json.loads(line)
        if message.get("id") == request_id and ("result" in message or "error" in message):
            return dict(message)


def dedent(text: str) -> str:
    """``textwrap.dedent`` and strip the leading newline: for files written in tests."""
    return textwrap.dedent(text).lstrip("\n")
