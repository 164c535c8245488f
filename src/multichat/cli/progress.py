"""A spinner on stderr for waits a person would otherwise sit through in silence.

It appears only after half a second (most commands finish sooner), only when stderr is a
terminal, and it clears itself. Rich is imported only when the spinner is actually shown.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Iterator
from typing import Any

#: Seconds of silence after which a wait gets a spinner.
SPINNER_DELAY = 0.5


@contextlib.contextmanager
def spinner(message: str, *, enabled: bool = True) -> Iterator[None]:
    """Show ``message`` with a spinner on stderr if the block lasts over :data:`SPINNER_DELAY`.

    ``enabled=False`` (a command about to ask questions on the terminal) shows nothing.
    """
    if not enabled or not sys.stderr.isatty():
        yield
        return
    lock = threading.Lock()
    shown: list[Any] = []
    finished = False

    def show() -> None:
        from rich.console import Console

        with lock:
            if finished:
                return
            status = Console(stderr=True).status(message)
            status.start()
            shown.append(status)

    timer = threading.Timer(SPINNER_DELAY, show)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        with lock:
            finished = True
            for status in shown:
                status.stop()
