"""Serving the sandbox with uvicorn: in the foreground (the CLI) or in a background thread.

The socket is bound before uvicorn starts, so port 0 means "a free port" and the URL is known
at once; a port in use is an :class:`AddressInUse` error rather than uvicorn's ``sys.exit``.
"""

from __future__ import annotations

import socket
import threading
from pathlib import Path
from types import TracebackType
from typing import Any

import uvicorn
from fastapi import FastAPI

from multichat.errors import bind_error_text
from multichat.sandbox.app import create_app
from multichat.sandbox.errors import AddressInUse, SandboxError


def bind_socket(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """A listening TCP socket on ``host:port`` (port 0: any free port).

    Raises:
        AddressInUse: the address cannot be bound.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that say they are TCP, and
    # without it every keep-alive response waits ~40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise AddressInUse(f"cannot listen on {host}:{port}: {bind_error_text(exc, port)}") from exc
    return sock


def base_url(sock: socket.socket) -> str:
    """``http://host:port`` of a bound socket (IPv6 hosts in brackets)."""
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class _Server(uvicorn.Server):
    """A uvicorn server that says when it has started (or failed to)."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = threading.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        try:
            await super().startup(sockets=sockets)
        finally:
            self.ready.set()


def _config(app: FastAPI, log_level: str) -> uvicorn.Config:
    return uvicorn.Config(app, log_level=log_level, timeout_graceful_shutdown=5)


def serve(app: FastAPI, sock: socket.socket, *, log_level: str = "warning") -> None:
    """Serve ``app`` on ``sock`` in this thread until Ctrl-C."""
    _Server(_config(app, log_level)).run(sockets=[sock])


class SandboxServer:
    """The sandbox on a real socket in a background thread, for tests and the demo.

    ``with SandboxServer() as sandbox:`` gives ``sandbox.url``, ``sandbox.app`` and
    ``sandbox.admin_token``; leaving the block stops the server (and deletes a temporary
    database). Keyword arguments other than ``host``, ``port``, ``app`` and ``log_level`` go to
    :func:`create_app`.
    """

    def __init__(
        self,
        db_path: Path | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        app: FastAPI | None = None,
        log_level: str = "warning",
        **app_options: Any,
    ) -> None:
        """Prepare (not start) a server; a given ``app`` is served as it is."""
        self.app = app if app is not None else create_app(db_path, **app_options)
        self._host, self._port, self._log_level = host, port, log_level
        self._sock: socket.socket | None = None
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    @property
    def port(self) -> int:
        """The port the server listens on (known once started)."""
        return int(self.url.rsplit(":", 1)[1]) if self.url else self._port

    @property
    def admin_token(self) -> str:
        """The ``X-Sandbox-Admin`` token of this app's ``/admin`` endpoints."""
        return str(self.app.state.admin_token)

    @property
    def api_url(self) -> str:
        """The chat API's base URL, ``<url>/api/v1``."""
        return f"{self.url}/api/v1"

    def start(self, timeout: float = 10) -> SandboxServer:
        """Bind, start serving in a daemon thread and wait (at most ``timeout`` s) until ready.

        Raises:
            AddressInUse: the address cannot be bound.
            SandboxError: uvicorn did not start in time.
        """
        self._sock = bind_socket(self._host, self._port)
        self.url = base_url(self._sock)
        server = self._server = _Server(_config(self.app, self._log_level))
        sock = self._sock
        self._thread = threading.Thread(
            target=lambda: server.run(sockets=[sock]), name="multichat-sandbox", daemon=True
        )
        self._thread.start()
        if not server.ready.wait(timeout) or not server.started:
            self.stop()
            raise SandboxError(f"the sandbox did not start on {self.url} within {timeout} s")
        return self

    def stop(self, timeout: float = 10) -> None:
        """Stop serving and wait (at most ``timeout`` s) for the thread to end."""
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout)
            if self._thread.is_alive():
                self._server.force_exit = True
                self._thread.join(timeout)
        if self._sock is not None:
            self._sock.close()
        self._server = self._thread = self._sock = None

    def __enter__(self) -> SandboxServer:
        """Start the server."""
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the server."""
        self.stop()
