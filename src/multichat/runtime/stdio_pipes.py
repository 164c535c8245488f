"""The client's stdin and stdout served by the event loop itself, without worker threads.

The MCP SDK writes each message to stdout through anyio's worker threads (a write, then a
flush: two hand-offs to a thread and back per message), and stdin's lines come from a thread
(:mod:`.stdin_lines`). Where both are pipes or sockets, which is how an MCP client starts a
server, the loop's own pipe transports read and write them with no thread at all: about
0.3 ms less CPU a call (``python -m bench.stdio_frameworks``). A pipe transport makes its open
file non-blocking, for every process and descriptor that shares it; so a terminal, a file, or
a stdout that is also stderr's file (``2>&1``) keeps the threads.

While serving, fd 1 points at stderr (as the SDK does when it claims stdout): a stray
``print``, or a child process writing to its stdout, lands on stderr, never on the wire.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import stat
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from io import TextIOWrapper
from typing import Any, BinaryIO

import anyio

logger = logging.getLogger(__name__)

#: The longest line a client may send through the loop's reader (the thread's has no limit).
MAX_LINE_BYTES = 128 * 1024 * 1024


def _identity(fd: int) -> tuple[int, int, int] | None:
    try:
        found = os.fstat(fd)
    except OSError:
        return None
    return found.st_dev, found.st_ino, found.st_mode


def loop_can_serve(fd: int, *others: int) -> bool:
    """Whether ``fd`` is a pipe or socket no other of ``others`` also is (the loop may own it)."""
    if sys.platform == "win32":
        return False
    mine = _identity(fd)
    if mine is None or not (stat.S_ISFIFO(mine[2]) or stat.S_ISSOCK(mine[2])):
        return False
    return all(_identity(other) != mine for other in others)


@contextlib.contextmanager
def claimed_descriptor(fd: int, open_diversion: Callable[[], int]) -> Iterator[int]:
    """``fd``'s file on a private descriptor, ``fd`` on ``open_diversion()``'s until the end.

    The private descriptor is never closed (a thread may still read or write it after serving
    ends) and is made blocking again before ``fd`` gets its file back: a pipe transport made
    the file non-blocking for everyone who shares it.
    """
    private = os.dup(fd)  # above 2 while 0, 1 and 2 are open; not inherited by children
    diversion = open_diversion()
    try:
        os.dup2(diversion, fd)
    finally:
        os.close(diversion)
    try:
        yield private
    finally:
        with contextlib.suppress(OSError):
            os.set_blocking(private, True)
        os.dup2(private, fd)


@contextlib.contextmanager
def claimed_stdin() -> Iterator[BinaryIO]:
    """The client's stdin on a private descriptor, fd 0 on the null device until the end.

    A tool, or a child it starts, reads EOF instead of the client's messages, as under the
    SDK's own claim.
    """
    with claimed_descriptor(0, lambda: os.open(os.devnull, os.O_RDONLY)) as private:
        yield os.fdopen(private, "rb", closefd=False)


@contextlib.contextmanager
def claimed_stdout() -> Iterator[int | None]:
    """The client's stdout on a private descriptor, fd 1 pointing at stderr until the end.

    ``None`` on Windows, where the SDK's own claim (which also rebinds the console handle)
    stays in charge.
    """
    if sys.platform == "win32":
        yield None
        return
    with claimed_descriptor(1, _stderr_or_null) as private:
        yield private


def _stderr_or_null() -> int:
    try:
        return os.dup(2)
    except OSError:
        return os.open(os.devnull, os.O_WRONLY)


class PipeLines:
    """The lines of a pipe, read by the event loop (text, UTF-8, bad bytes replaced)."""

    def __init__(self, reader: asyncio.StreamReader) -> None:
        """Read from ``reader``, which a pipe transport of the running loop fills."""
        self._reader = reader

    def __aiter__(self) -> PipeLines:
        return self

    async def __anext__(self) -> str:
        try:
            line = await self._reader.readline()
        except ValueError:  # past MAX_LINE_BYTES without a newline
            logger.error(
                "multichat: the client sent a line of more than %d bytes; stopping", MAX_LINE_BYTES
            )
            raise StopAsyncIteration from None
        if not line:
            raise StopAsyncIteration
        return line.decode("utf-8", errors="replace")


class PipeWriter:
    """Text written to a pipe by the event loop, waiting only while the pipe is full."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        """Write through ``writer``, a pipe transport of the running loop."""
        self._writer = writer

    async def write(self, text: str) -> None:
        """Queue ``text`` (UTF-8) on the pipe; a client gone away ends the writing quietly."""
        if self._writer.transport.is_closing():
            raise anyio.ClosedResourceError
        self._writer.write(text.encode("utf-8"))

    async def flush(self) -> None:
        """Wait while the pipe is full (the client reads slowly), not otherwise."""
        try:
            await self._writer.drain()
        except ConnectionError:
            raise anyio.ClosedResourceError from None


@contextlib.asynccontextmanager
async def loop_reader(stream: BinaryIO) -> AsyncIterator[PipeLines]:
    """``stream``'s lines through a read-pipe transport (on a duplicate it closes after)."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=MAX_LINE_BYTES, loop=loop)
    pipe = os.fdopen(os.dup(stream.fileno()), "rb", buffering=0)
    transport, _ = await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader, loop=loop), pipe
    )
    try:
        yield PipeLines(reader)
    finally:
        transport.close()  # the claim makes the file blocking again (claimed_descriptor)


@contextlib.asynccontextmanager
async def loop_writer(fd: int) -> AsyncIterator[PipeWriter]:
    """A writer on ``fd`` through a write-pipe transport (on a duplicate it closes after)."""
    loop = asyncio.get_running_loop()
    pipe = os.fdopen(os.dup(fd), "wb", buffering=0)
    transport, protocol = await loop.connect_write_pipe(
        lambda: asyncio.streams.FlowControlMixin(loop=loop), pipe
    )
    writer = asyncio.StreamWriter(transport, protocol, None, loop)
    try:
        yield PipeWriter(writer)
    finally:
        transport.close()


def thread_writer(fd: int) -> Any:
    """A writer on ``fd`` through anyio's worker threads, as the SDK makes for stdout."""
    return anyio.wrap_file(
        TextIOWrapper(os.fdopen(fd, "wb", closefd=False), encoding="utf-8", write_through=True)
    )
