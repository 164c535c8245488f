"""The ``multichat`` command line: Typer commands, one module per command group.

This is the only place that turns :class:`multichat.errors.MultichatError` into a line on
stderr and an exit code.
"""

from multichat.cli.main import main

__all__ = ["main"]
