"""A TCP proxy on 127.0.0.1 that delays every chunk a client sends, as a distant server would.

A request sent in one piece waits ``delay`` seconds once, so a request/response round trip
costs about ``delay`` more than on the loopback: the benchmarks measure round trips, not the
local server's speed alone.
"""

from __future__ import annotations

import asyncio
import threading
from types import TracebackType


class LatencyProxy:
    """``http://127.0.0.1:{port}`` forwarding to ``upstream_port``, ``delay`` s a request."""

    def __init__(self, upstream_port: int, delay: float) -> None:
        self.upstream_port = upstream_port
        self.delay = delay
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LatencyProxy:
        self._thread.start()
        if not self._started.wait(10):
            raise RuntimeError("the latency proxy did not start")
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._loop.call_soon_threadsafe(self._stopping.set)
        self._thread.join(10)
        self._loop.close()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._serve())

    async def _serve(self) -> None:
        self._stopping = asyncio.Event()
        server = await asyncio.start_server(self._connection, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        self._started.set()
        async with server:
            await self._stopping.wait()
        pending = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    async def _connection(
        self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter
    ) -> None:
        server_in, server_out = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        try:
            await asyncio.gather(
                _pump(client_in, server_out, self.delay),
                _pump(server_in, client_out, 0.0),
                return_exceptions=True,
            )
        except asyncio.CancelledError:
            # Closing at exit: end quietly (asyncio's stream callback reports a cancelled
            # connection task as an error on Python 3.11).
            return


async def _pump(source: asyncio.StreamReader, target: asyncio.StreamWriter, delay: float) -> None:
    try:
        while data := await source.read(65536):
            if delay:
                await asyncio.sleep(delay)
            target.write(data)
            await target.drain()
    finally:
        target.close()
