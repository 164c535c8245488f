"""The MCP client's lines on stdin, read by a daemon thread so that Ctrl-C never waits on a read.

The MCP SDK's stdio transport reads stdin in one of anyio's worker threads. Such a read cannot
be cancelled, and the worker is not a daemon: after Ctrl-C the server waited for the client's
next line or for stdin to close (in a terminal: for ever). Here a daemon thread of our own does
the blocking reads and hands each line to the event loop; cancelling the reader only stops
waiting for the next one, and a read still blocked does not keep the process alive.

The client's stdin is on a private descriptor while serving, fd 0 on the null device
(:func:`~.stdio_pipes.claimed_stdin`). Up to ``MAX_WAITING_LINES`` lines are read ahead of
the server; then the thread waits, as the SDK's unbuffered transport makes a fast client wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import BinaryIO

MAX_WAITING_LINES = 16


class StdinLines:
    """An async iterator of the lines of ``stream`` (text, UTF-8, bad bytes replaced)."""

    def __init__(self, stream: BinaryIO) -> None:
        """Start the reading thread; call from inside the running event loop."""
        self._loop = asyncio.get_running_loop()
        self._lines: asyncio.Queue[bytes] = asyncio.Queue()
        self._room = threading.Semaphore(MAX_WAITING_LINES)
        thread = threading.Thread(
            target=self._read, args=(stream,), name="multichat stdin", daemon=True
        )
        thread.start()

    def _read(self, stream: BinaryIO) -> None:
        try:
            for line in iter(stream.readline, b""):
                self._room.acquire()
                self._hand_over(line)
        except (OSError, ValueError):  # the descriptor went away: as the end of input
            pass
        self._hand_over(b"")

    def _hand_over(self, line: bytes) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is reading
            self._loop.call_soon_threadsafe(self._lines.put_nowait, line)

    def __aiter__(self) -> StdinLines:
        return self

    async def __anext__(self) -> str:
        line = await self._lines.get()
        if not line:
            raise StopAsyncIteration
        self._room.release()
        return line.decode("utf-8", errors="replace")
