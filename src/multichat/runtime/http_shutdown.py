"""How the HTTP server stops on Ctrl-C or SIGTERM: a grace window, then a quiet cancellation.

uvicorn's own shutdown waits for requests in flight, then cancels their tasks, which logs a
CancelledError traceback for each, and once served it raises the signal again (with SIGINT
ignored, as in a shell's background job, the process then ends with 0). Here every request
runs in a cancel scope of its own (:class:`InFlightRequests`): once the grace window of the
signal is over, the server cancels what is still running, answers it (503, or the end of a
stream already begun) and says how many in one line, so uvicorn's wait ends with no traceback.
:class:`StoppingServer` keeps the signal that stopped it, for the caller's exit code.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

import anyio
import uvicorn
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: Seconds requests in flight may take to finish after each signal (a second signal cancels
#: them at once). Ctrl-C: a person waits. SIGTERM: a process manager stopping the server;
#: `docker stop` kills it after 10 s (https://docs.docker.com/reference/cli/docker/container/stop/).
GRACE_SECONDS: dict[int, float] = {signal.SIGINT: 2.0, signal.SIGTERM: 8.0}
#: Grace after a stop no signal asked for (uvicorn's own: a failed start-up).
_OTHER_STOP_GRACE = GRACE_SECONDS[signal.SIGTERM]
#: uvicorn's own graceful-shutdown timeout, a backstop beyond every grace window: it cancels
#: (with its traceback) only a request that would not end when cancelled.
UVICORN_TIMEOUT_SECONDS = int(max(GRACE_SECONDS.values())) + 5
#: How often the grace window looks whether requests ended (uvicorn's own shutdown polls so).
_POLL_SECONDS = 0.1


@dataclass(eq=False)
class _Request:
    stream: bool
    scope: anyio.CancelScope = field(default_factory=anyio.CancelScope)


class InFlightRequests:
    """ASGI middleware that keeps every HTTP request in a cancel scope the server may cancel.

    A GET is a stream of server notifications, which never ends by itself; any other request
    is a call. A cancelled request is answered here, so the server sees it end, not fail.
    """

    def __init__(self, app: ASGIApp) -> None:
        """Wrap ``app`` (the whole application, so every route is covered)."""
        self.app = app
        self._requests: set[_Request] = set()

    @property
    def calls(self) -> int:
        """How many requests other than notification streams are being answered."""
        return sum(1 for request in self._requests if not request.stream)

    def cancel(self, *, streams_only: bool = False) -> int:
        """Cancel the requests being answered (only the streams, with ``streams_only``).

        Returns:
            How many calls (not streams) were cancelled.
        """
        calls = 0
        for request in self._requests:
            if request.stream or not streams_only:
                request.scope.cancel()
                calls += not request.stream
        return calls

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer the request inside its own cancel scope; complete it if it was cancelled."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = complete = False

        async def watch(message: Message) -> None:
            nonlocal started, complete
            if message["type"] == "http.response.start":
                started = True
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                complete = True
            await send(message)

        request = _Request(stream=scope["method"] == "GET")
        self._requests.add(request)
        try:
            with request.scope:
                await self.app(scope, receive, watch)
        finally:
            self._requests.discard(request)
        if request.scope.cancel_called and not complete:
            await _answer_stopped(send, started)


async def _answer_stopped(send: Send, started: bool) -> None:
    """End a cancelled request: the end of its stream, or a 503 JSON-RPC error."""
    if started:
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        return
    error = {"code": -32000, "message": "the server is stopping: this request was cancelled"}
    body = json.dumps({"jsonrpc": "2.0", "id": None, "error": error}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _leave_streams_to_the_grace_window() -> None:
    """Keep sse-starlette from ending every SSE response as soon as uvicorn begins to stop.

    The SDK answers a call of a 2025 session as an SSE stream; sse-starlette would end it with
    no answer (and uvicorn log an error) at once, grace or not. Its documented switch hands
    the stream's end to whoever stops the server: :class:`InFlightRequests` here.
    """
    with contextlib.suppress(ImportError):  # the SDK's dependency, not ours
        from sse_starlette.sse import AppStatus

        # What its (untyped) AppStatus.disable_automatic_graceful_drain() does.
        AppStatus.enable_automatic_graceful_drain = False


class StoppingServer(uvicorn.Server):
    """uvicorn's server, stopping requests in flight quietly and keeping the signal it got.

    ``requests`` must wrap the served app; ``listening(port)`` runs once the socket listens;
    ``cancelled(count)`` hears how many calls were still running when the grace window ended.
    """

    def __init__(
        self,
        config: uvicorn.Config,
        requests: InFlightRequests,
        *,
        listening: Callable[[int], None] | None = None,
        cancelled: Callable[[int], None] | None = None,
    ) -> None:
        """Serve ``config``, whose app is (or contains, outermost) ``requests``."""
        super().__init__(config)
        _leave_streams_to_the_grace_window()
        self.requests = requests
        self.listening = listening
        self.cancelled = cancelled
        #: The signal that stopped the server first, if one did.
        self.stop_signal: int | None = None
        #: A second signal came: requests still running are cancelled now.
        self.hurried = False

    async def startup(self, sockets: Any = None) -> None:
        """Start as uvicorn does, then say the port it listens on (if it does)."""
        await super().startup(sockets)
        if self.listening is not None and not self.should_exit and self.servers:
            self.listening(self.servers[0].sockets[0].getsockname()[1])

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        """Remember the first signal and stop; a second ends the grace window at once.

        (uvicorn's own second Ctrl-C would skip the application's shutdown, whose task is
        then cancelled with a traceback; a third still does that.)
        """
        if self.stop_signal is None:
            self.stop_signal = sig
        elif not self.hurried:
            self.hurried = True
            return
        super().handle_exit(sig, frame)

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """uvicorn's, less raising the signal again once served: the caller reads ``stop_signal``.

        (A signal the process was started to ignore would otherwise be ignored again there.)
        """
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in GRACE_SECONDS}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    async def shutdown(self, sockets: Any = None) -> None:
        """Shut down as uvicorn does, with requests still running cancelled after the grace."""
        self.requests.cancel(streams_only=True)  # they hold the connection open for ever
        grace = _OTHER_STOP_GRACE
        if self.stop_signal is not None:
            grace = GRACE_SECONDS.get(self.stop_signal, grace)
        ending = asyncio.ensure_future(self._cancel_after(grace))
        try:
            await super().shutdown(sockets)
        finally:
            ending.cancel()

    async def _cancel_after(self, grace: float) -> None:
        with anyio.move_on_after(grace):
            while self.requests.calls and not (self.hurried or self.force_exit):
                await anyio.sleep(_POLL_SECONDS)
        calls = self.requests.cancel()
        if calls and self.cancelled is not None:
            self.cancelled(calls)
