"""Logging for the runtime: everything goes to stderr, because stdout may be the MCP channel."""

from __future__ import annotations

import logging
import sys

_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(level: str | int = "WARNING") -> None:
    """Send log records to stderr at ``level``; replaces handlers a library put on stdout."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        stream = getattr(handler, "stream", None)
        if stream is sys.stdout:
            root.removeHandler(handler)
    if not any(getattr(h, "_multichat", False) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(_FORMAT))
        handler._multichat = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level)
    # FastMCP logs through its own handler (rich, on stderr), which folds one record over
    # several lines in columns; its records go through ours instead, one line each. It puts
    # that handler on when imported: import it first, so the handler is there to take off.
    import fastmcp  # noqa: F401

    fastmcp_logger = logging.getLogger("fastmcp")
    for handler in list(fastmcp_logger.handlers):
        fastmcp_logger.removeHandler(handler)
    fastmcp_logger.propagate = True
    fastmcp_logger.setLevel(level)
