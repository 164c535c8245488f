"""Shared pieces of the security tests: a sandbox-preset workspace and a raw stdio MCP session.

A plain module, so tests and ``conftest.py`` alike can ``from security_support
import ...``. Every wait is bounded.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from helpers import MULTICHAT, LinePump, clean_env, free_port, generated_workspace

PROVIDER = "chat"
ALL_SCOPES = ["chat:read", "chat:write", "users:read"]
PROTOCOL_VERSION = "2025-06-18"


def make_sandbox_workspace(folder: Path, platform_url: str, provider: str = PROVIDER) -> Path:
    """A fresh workspace at ``folder`` with ``provider`` generated from the sandbox preset."""
    return generated_workspace(
        folder, provider, "sandbox", {"platform_url": platform_url, "port": free_port()}
    )


def sign_in(workspace: Path, sandbox: Any, provider: str = PROVIDER) -> dict[str, Any]:
    """Give ``provider`` a fresh token of Ada's (file and memory), minted without consent."""
    from multichat.runtime import load_config, provider_auth
    from multichat.runtime.loader import activate_workspace
    from multichat.runtime.token_access import reset_provider_auth
    from multichat.sandbox import SANDBOX_CLIENT_ID, issue_tokens

    token = issue_tokens(sandbox.app.state.db, SANDBOX_CLIENT_ID, "U01", ALL_SCOPES)
    activate_workspace(load_config(workspace / "provider-config.yaml"))
    reset_provider_auth()
    provider_auth(provider).save_credentials(token)
    return token


def chat_snapshot(db: Any) -> list[list[tuple[Any, ...]]]:
    """Everything a chat tool could change in the sandbox: messages, reactions, read markers."""
    return [
        [tuple(row) for row in db.query(sql)]
        for sql in (
            "SELECT seq, channel_id, user_id, text, edited_at, thread_seq FROM messages ORDER BY 1",
            "SELECT message_seq, name, user_id FROM reactions ORDER BY 1, 2, 3",
            "SELECT user_id, channel_id, last_read_seq FROM read_markers ORDER BY 1, 2",
        )
    ]


class RawStdioSession:
    """``multichat run`` in a subprocess, spoken to in raw JSON-RPC lines over its stdin/stdout.

    Every line the server writes is kept (``stdout_text``), as is its stderr (``stderr_text``).
    """

    def __init__(
        self, workspace: Path, *args: str, wait: float = 60.0, env: dict[str, str] | None = None
    ) -> None:
        self.wait = wait
        self.process = subprocess.Popen(
            [MULTICHAT, "run", *args],
            cwd=workspace,
            env=env or clean_env(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
        self._out = LinePump(self.process.stdout)
        self._err = LinePump(self.process.stderr)
        self._next_id = 0
        self.stdout_text = ""
        self.stderr_text = ""

    def __enter__(self) -> RawStdioSession:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def send_line(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def send(self, message: dict[str, Any]) -> None:
        self.send_line(json.dumps(message))

    def request(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """Send a request and return its response (a ``result`` or an ``error``)."""
        self._next_id += 1
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": self._next_id, "method": method}
        if params is not None:
            message["params"] = params
        self.send(message)
        return self.response(self._next_id)

    def response(self, request_id: Any) -> dict[str, Any]:
        """Read lines until the response to ``request_id`` arrives."""
        deadline = time.monotonic() + self.wait
        while True:
            line = self._out.next_line(deadline)
            if line is None:
                pytest.fail(f"stdout closed before the answer to {request_id}: {self.stderr()}")
            message = json.loads(line)
            if message.get("id") == request_id and ("result" in message or "error" in message):
                return dict(message)

    def initialize(self) -> dict[str, Any]:
        answer = self.request(
            "initialize",
            {
                "protocolVersion": PROTOCOL_VERSION,
                "capabilities": {},
                "clientInfo": {"name": "raw-test", "version": "0"},
            },
        )
        assert "result" in answer, answer
        self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        return answer

    def call_tool(self, name: str, arguments: Any) -> dict[str, Any]:
        return self.request("tools/call", {"name": name, "arguments": arguments})

    def stderr(self) -> str:
        return "".join(self._err.seen)

    def close(self) -> None:
        """End the session: close stdin, wait (bounded), keep everything the server wrote."""
        if self.process.stdin is not None and not self.process.stdin.closed:
            with contextlib.suppress(OSError):
                self.process.stdin.close()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.stdout_text = self._out.join(10)
        self.stderr_text = self._err.join(10)


def tool_error_text(answer: dict[str, Any]) -> str:
    """The text of a ``tools/call`` answer that is an error result; fails when it is not one."""
    assert "result" in answer, answer
    result = answer["result"]
    assert result.get("isError") is True, result
    return " ".join(block.get("text", "") for block in result["content"])
