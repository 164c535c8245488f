"""Refuse requests to a loopback server that name another host: the sign-in app's guard.

A web page can make a browser send requests to 127.0.0.1 under its own name (DNS rebinding);
the Host header then names the page's site. The sign-in app (``/auth``, ``/status``) answers
only Host headers naming the loopback address and port the request actually reached (421
otherwise) and, from a browser, only its own Origin (403), as the MCP server does.
"""

from __future__ import annotations

from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from multichat.runtime.addresses import loopback_origins


class LoopbackHostGuard:
    """ASGI middleware: a request's Host and Origin must name the loopback port it reached."""

    def __init__(self, app: ASGIApp) -> None:
        """Wrap ``app``."""
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer 421 for a foreign Host and 403 for a foreign Origin; pass the rest on."""
        if scope["type"] == "http":
            refusal = _refusal(scope)
            if refusal is not None:
                await refusal(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _refusal(scope: Scope) -> PlainTextResponse | None:
    host_name, port = scope.get("server") or ("127.0.0.1", None)
    if not port:  # ASGI leaves it out when the URL has none: the scheme's default
        port = 443 if scope.get("scheme") == "https" else 80
    hosts, origins = loopback_origins(str(host_name), int(port))
    headers = {key.lower(): value for key, value in scope.get("headers", [])}
    host = bytes(headers.get(b"host", b"")).decode("latin-1")
    if host not in hosts:
        return PlainTextResponse("Invalid Host header", status_code=421)
    origin = headers.get(b"origin")
    if origin is not None and bytes(origin).decode("latin-1") not in origins:
        return PlainTextResponse("Invalid Origin header", status_code=403)
    return None
