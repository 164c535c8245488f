"""The single error boundary of the CLI: one readable line and an exit code, never a traceback."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from typing import Any

import typer
from typer._click.exceptions import NoArgsIsHelpError, UsageError  # Typer's bundled click

from multichat.cli.app import app
from multichat.cli.state import state
from multichat.errors import (
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    MultichatError,
    os_error_text,
)


def use_colour(stream: Any) -> bool:
    """Colour only on a terminal, and never when ``NO_COLOR`` is set (no-color.org)."""
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def error_line(message: str) -> None:
    """Print ``multichat: error: message`` to stderr, in red where :func:`use_colour` says."""
    prefix = "multichat: error:"
    if use_colour(sys.stderr):
        prefix = f"\x1b[31m{prefix}\x1b[0m"
    print(f"{prefix} {message}", file=sys.stderr)


def usage_error(exc: UsageError) -> None:
    """Click's usage error as one of our lines, naming the ``--help`` that explains usage."""
    command = exc.ctx.command_path if exc.ctx is not None else "multichat"
    # Typer checks choices and ranges with pydantic, whose "Value error, " says nothing.
    message = exc.format_message().rstrip(".").replace(": Value error, ", ": ")
    error_line(f"{message}; see `{command} --help`")


def _interrupted() -> None:
    """Say that Ctrl-C stopped the command (a server stopping that way says nothing)."""
    if not state.quiet_interrupt:
        print(f"multichat: {state.interrupted}", file=sys.stderr)


def main(argv: list[str] | None = None) -> None:
    """Run the CLI and exit with its code: 0 ok, 1 failure, 2 bad input or usage, 130 Ctrl-C."""
    state.argv = list(sys.argv[1:] if argv is None else argv)
    code = _run(argv)
    if state.quiet_interrupt:
        # A server's exit waits for a tool still running in a thread (Python cannot stop
        # one): Ctrl-C or SIGTERM then ends the process at once, with the same code.
        for stop in (signal.SIGINT, signal.SIGTERM):
            signal.signal(stop, lambda signum, frame: _exit_at_once(code))
    else:
        # The command is over and has said how it ended: a Ctrl-C from here on, while the
        # interpreter shuts down, would kill the process with SIGINT and hide that result.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.exit(code)


def _exit_at_once(code: int) -> None:
    """End the process now, not waiting for threads; what it printed is flushed first."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError, AttributeError):
            stream.flush()
    os._exit(code)


def _run(argv: list[str] | None) -> int:
    """Run the command; print what went wrong, if anything, and return the exit code."""
    # Typer bundles its own click: its usage errors derive from typer.TyperException, not from
    # click.ClickException; outside standalone mode, `raise typer.Exit(n)` comes back as `n`.
    try:
        code = app(args=argv, prog_name="multichat", standalone_mode=False)
    except typer.Exit as exc:
        return int(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):  # Ctrl-C at a prompt, or outside Typer's reach
        _interrupted()
        return EXIT_INTERRUPTED
    except NoArgsIsHelpError as exc:  # a group called alone: its help is the answer
        exc.show()
        return int(exc.exit_code)
    except UsageError as exc:
        usage_error(exc)
        return EXIT_USAGE
    except typer.TyperException as exc:
        error_line(exc.format_message())
        return int(getattr(exc, "exit_code", 1))
    except MultichatError as exc:
        if state.debug:
            raise
        error_line(str(exc))
        return exc.exit_code
    except OSError as exc:  # what no command turned into its own message: the system's reason
        if state.debug:
            raise
        error_line(f"{os_error_text(exc)} (run again with --debug for the traceback)")
        return EXIT_FAILURE
    if code == EXIT_INTERRUPTED:  # Typer's answer to Ctrl-C in a command: it returns 130
        _interrupted()
    return code if isinstance(code, int) else 0
