"""Which event loop ``multichat run`` serves on: uvloop where it is installed, else asyncio's.

uvloop (libuv, in C) does the loop's part of each MCP call in less CPU than asyncio's own
loop: a bare FastMCP server answering a canned page over stdio spent 0.1-0.5 ms less CPU a call
on it (of 2.2-2.6 ms; less in each of five A/B runs). It is a dependency wherever it builds
(not on Windows).
``MULTICHAT_EVENT_LOOP=asyncio`` serves on asyncio's loop instead, to rule uvloop out when a
provider's library misbehaves under it.
"""

from __future__ import annotations

import importlib.util
import os
from typing import Any, Literal

from multichat.errors import ConfigError

EVENT_LOOP_VARIABLE = "MULTICHAT_EVENT_LOOP"
EventLoop = Literal["uvloop", "asyncio"]
_CHOICES: tuple[EventLoop, ...] = ("uvloop", "asyncio")


def chosen_event_loop() -> EventLoop:
    """The loop ``MULTICHAT_EVENT_LOOP`` asks for; uvloop when it is unset and installed.

    Raises:
        ConfigError: the variable names another loop, or uvloop, which is not installed.
    """
    asked = os.environ.get(EVENT_LOOP_VARIABLE, "").strip().lower()
    installed = importlib.util.find_spec("uvloop") is not None
    if not asked:
        return "uvloop" if installed else "asyncio"
    if asked not in _CHOICES:
        raise ConfigError(
            f"{EVENT_LOOP_VARIABLE}={asked!r} is not an event loop multichat knows: "
            "use uvloop or asyncio"
        )
    if asked == "uvloop" and not installed:
        raise ConfigError(
            f"{EVENT_LOOP_VARIABLE}=uvloop, but uvloop is not installed here "
            "(it has no Windows build): unset it or use asyncio"
        )
    return "uvloop" if asked == "uvloop" else "asyncio"


def anyio_backend_options(loop: EventLoop) -> dict[str, Any]:
    """``anyio.run``'s ``backend_options`` for ``loop``."""
    return {"use_uvloop": loop == "uvloop"}
