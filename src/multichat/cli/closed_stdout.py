"""A reader that stops reading (``multichat ... | head -1``) neither stops nor fails a command.

Python ignores SIGPIPE, so a write to a pipe whose reader has gone raises BrokenPipeError
wherever the command is: half-way through writing a provider, it would stop there, and Typer
then exits 1 with no message. The Python docs advise pointing stdout at devnull and exiting
(https://docs.python.org/3/library/signal.html#note-on-sigpipe). Here stdout is pointed at
devnull at the first such write and the command carries on: its work is done whole, the
output nobody reads is dropped, and the exit code is the command's own.
"""

from __future__ import annotations

import io
import os
import sys
from typing import Any


class _ReaderMayLeave(io.RawIOBase):
    """File descriptor ``fd`` as a raw stream whose writes succeed once the reader is gone."""

    def __init__(self, fd: int) -> None:
        self._fd = fd

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._fd

    def isatty(self) -> bool:
        return os.isatty(self._fd)

    def write(self, data: Any) -> int:
        try:
            return os.write(self._fd, data)
        except BrokenPipeError:
            # From here on the descriptor writes to devnull: this process's later output
            # and that of any child it starts.
            devnull = os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(devnull, self._fd)
            finally:
                os.close(devnull)
            return memoryview(data).nbytes


def drop_output_once_its_reader_is_gone() -> None:
    """Make ``sys.stdout`` drop what it writes once its reader has closed the pipe.

    It stays a text stream of the same encoding and buffering on the same descriptor; a
    ``sys.stdout`` that is not a file (a test capturing it) is left alone.
    """
    stdout = sys.stdout
    if isinstance(getattr(getattr(stdout, "buffer", None), "raw", None), _ReaderMayLeave):
        return  # done already (the CLI run again in one process)
    try:
        fd = stdout.fileno()
        encoding, errors = stdout.encoding, stdout.errors
    except (AttributeError, OSError, ValueError):
        return
    stdout.flush()
    raw = _ReaderMayLeave(fd)
    # `python -u` / PYTHONUNBUFFERED: the binary layer is the raw file itself; keep it so.
    unbuffered = isinstance(getattr(stdout, "buffer", None), io.RawIOBase)
    sys.stdout = io.TextIOWrapper(
        raw if unbuffered else io.BufferedWriter(raw),
        encoding=encoding,
        errors=errors,
        line_buffering=bool(stdout.line_buffering),
        write_through=getattr(stdout, "write_through", False),
    )
