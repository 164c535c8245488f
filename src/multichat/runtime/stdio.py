"""Serve MCP over stdio, answering a line that is not JSON-RPC with a -32700 parse error.

The MCP SDK's stdio transport hands such a line on as an exception, and its dispatcher drops it
(logged at DEBUG): the client never hears back. JSON-RPC 2.0 asks for a parse error with a null
id. This wraps the transport's read stream to answer those, then serves exactly as
``FastMCP.run_stdio_async`` does (same lifespan, same transport marker), but with the client's
pipes served by the event loop itself (:mod:`.stdio_pipes`), or stdin read by a daemon thread
(:mod:`.stdin_lines`) where they are not pipes, so that Ctrl-C stops the server at once, and
SIGTERM stops it too (returning, where Ctrl-C raises ``KeyboardInterrupt``). It is the one
module that uses FastMCP's private API (``_lifespan_manager``, ``_mcp_server``); a test pins
both.
"""

from __future__ import annotations

import contextlib
import signal
import sys
from types import TracebackType
from typing import Any, BinaryIO

import anyio
from fastmcp import FastMCP
from mcp.server.stdio import stdio_server
from mcp.shared.message import SessionMessage
from mcp_types import ErrorData, JSONRPCError

from multichat.runtime.stdin_lines import StdinLines
from multichat.runtime.stdio_pipes import (
    claimed_stdin,
    claimed_stdout,
    loop_can_serve,
    loop_reader,
    loop_writer,
    thread_writer,
)

PARSE_ERROR = -32700


class _AnswerParseErrors:
    """A read stream that answers transport errors itself and passes messages on."""

    def __init__(self, inner: Any, write_stream: Any) -> None:
        self._inner = inner
        self._write = write_stream

    async def receive(self) -> SessionMessage:
        while True:
            item = await self._inner.receive()
            if not isinstance(item, Exception):
                return item  # type: ignore[no-any-return]
            error = ErrorData(code=PARSE_ERROR, message="Parse error: not a JSON-RPC message")
            await self._write.send(
                SessionMessage(JSONRPCError(jsonrpc="2.0", id=None, error=error))
            )

    def __aiter__(self) -> _AnswerParseErrors:
        return self

    async def __anext__(self) -> SessionMessage:
        try:
            return await self.receive()
        except anyio.EndOfStream:
            raise StopAsyncIteration from None

    async def __aenter__(self) -> _AnswerParseErrors:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._inner.aclose()

    def __getattr__(self, name: str) -> Any:
        # Anything else (the context the dispatcher reads, close, clone) is the inner stream's.
        return getattr(self._inner, name)


async def serve_stdio(server: FastMCP[Any]) -> None:
    """Serve ``server`` over this process's stdin and stdout until stdin closes or SIGTERM."""
    async with anyio.create_task_group() as serving:
        if sys.platform != "win32":  # no signal handlers in Windows event loops
            serving.start_soon(_stop_on_sigterm, serving.cancel_scope)
        await _serve_stdio(server)
        serving.cancel_scope.cancel()  # served: stop listening for the signal


async def _stop_on_sigterm(serving: anyio.CancelScope) -> None:
    """Cancel ``serving`` when SIGTERM comes (an MCP client ending the server, a supervisor)."""
    with anyio.open_signal_receiver(signal.SIGTERM) as signals:
        async for _ in signals:
            serving.cancel()
            return


async def _serve_stdio(server: FastMCP[Any]) -> None:
    from fastmcp.server.context import reset_transport, set_transport

    token = set_transport("stdio")
    try:
        with (
            claimed_stdin() as stdin,
            claimed_stdout() as stdout,
            # Python's own stdout too: what a tool prints would sit in its buffer, flushed
            # at exit, after fd 1 is the client's pipe again.
            contextlib.redirect_stdout(sys.stderr),
        ):
            async with contextlib.AsyncExitStack() as streams:
                lines, writer = await _client_streams(streams, stdin, stdout)
                async with (
                    server._lifespan_manager(),
                    stdio_server(stdin=lines, stdout=writer) as (read_stream, write_stream),
                ):
                    await server._mcp_server.run(
                        _AnswerParseErrors(read_stream, write_stream),
                        write_stream,
                        server._mcp_server.create_initialization_options(),
                    )
    finally:
        reset_transport(token)


async def _client_streams(
    streams: contextlib.AsyncExitStack, stdin: BinaryIO, stdout: int | None
) -> tuple[Any, Any]:
    """The client's lines and a writer to it: the loop's own pipes where it can own them.

    Otherwise (a terminal, a file, a stdout shared with stderr) stdin is read by a daemon
    thread, so that Ctrl-C does not wait for the client's next line, and stdout written
    through worker threads, as the SDK does (runtime/stdio_pipes.py says why). ``None`` for
    the writer leaves stdout to the SDK (Windows).
    """
    others = (2,) if stdout is None else (stdout, 2)
    if loop_can_serve(stdin.fileno(), *others):
        lines: Any = await streams.enter_async_context(loop_reader(stdin))
    else:
        lines = StdinLines(stdin)
    if stdout is None:
        return lines, None
    if loop_can_serve(stdout, stdin.fileno(), 2):
        writer: Any = await streams.enter_async_context(loop_writer(stdout))
    else:
        writer = thread_writer(stdout)
    return lines, writer
