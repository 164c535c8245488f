"""A bound on the MCP sessions each HTTP client may hold open, so one cannot lock out others.

The MCP SDK caps sessions for the whole server (10,000) and closes idle ones after 30 minutes:
a flood of ``initialize`` requests filled that cap and every other client got 503 for half an
hour. Here each client (its credential as the SDK identifies it, plus its address) may hold at
most :data:`SESSIONS_PER_CLIENT`; a client over its share gets 429 while everyone else is
served. Sessions idle for :data:`SESSION_IDLE_SECONDS` are closed by the SDK (which is given
the same figure) and forgotten here.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass

from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser, authorization_context
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: Open sessions one client may hold: several MCP clients on one machine, with room to spare.
SESSIONS_PER_CLIENT = 32
#: A session with no request for this long is closed (the SDK's default is 30 minutes).
SESSION_IDLE_SECONDS = 300.0
_SESSION_HEADER = b"mcp-session-id"

ClientKey = tuple[str, str, str, str]


@dataclass
class _Session:
    client: ClientKey
    last_seen: float
    in_flight: int = 0


class SessionBudget:
    """ASGI middleware refusing a new session (429) to a client that holds its share already."""

    def __init__(
        self,
        app: ASGIApp,
        per_client: int = SESSIONS_PER_CLIENT,
        idle_seconds: float = SESSION_IDLE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Wrap ``app``; ``idle_seconds`` must be what the SDK's session manager was given."""
        self.app = app
        self.per_client = per_client
        self.idle_seconds = idle_seconds
        self._clock = clock
        self._sessions: dict[str, _Session] = {}

    def open_sessions(self, client: ClientKey) -> int:
        """How many sessions ``client`` holds now."""
        self._forget_idle()
        return sum(1 for session in self._sessions.values() if session.client == client)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Count sessions as they open and close; refuse one over the client's share."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client = _client_of(scope)
        session_id = _header(scope, _SESSION_HEADER)
        known = self._sessions.get(session_id) if session_id else None
        opening = session_id is None and scope["method"] == "POST"
        if opening and self.open_sessions(client) >= self.per_client:
            await _too_many(send, self.per_client, self.idle_seconds)
            return
        status = 0

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                opened = dict(message.get("headers", [])).get(_SESSION_HEADER)
                if opened and status < 300 and session_id is None:
                    self._sessions[opened.decode("latin-1")] = _Session(client, self._clock())
            await send(message)

        if known is not None:
            known.in_flight += 1
        try:
            await self.app(scope, receive, watch)
        finally:
            if known is not None:
                known.in_flight -= 1
                known.last_seen = self._clock()
                ended = status == 404 or (scope["method"] == "DELETE" and status < 300)
                if ended and session_id is not None:
                    self._sessions.pop(session_id, None)

    def _forget_idle(self) -> None:
        cutoff = self._clock() - self.idle_seconds
        for session_id in [
            key
            for key, session in self._sessions.items()
            if session.in_flight == 0 and session.last_seen < cutoff
        ]:
            del self._sessions[session_id]


def _client_of(scope: Scope) -> ClientKey:
    """Who is asking: the credential as the SDK compares it for a session, and the address."""
    user = scope.get("user")
    address = str((scope.get("client") or ("", 0))[0])
    if isinstance(user, AuthenticatedUser):
        context = authorization_context(user)
        return (context["client_id"], context["issuer"] or "", context["subject"] or "", address)
    return ("", "", "", address)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


async def _too_many(send: Send, limit: int, idle_seconds: float) -> None:
    body = json.dumps(
        {
            "jsonrpc": "2.0",
            "id": None,
            "error": {
                "code": -32000,
                "message": (
                    f"this client has {limit} MCP sessions open already: end one (HTTP DELETE) "
                    f"or wait for idle ones to close ({idle_seconds:g} s)"
                ),
            },
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 429,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", str(int(idle_seconds)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
