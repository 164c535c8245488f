"""The single error boundary of the CLI: one readable line and an exit code, never a traceback."""

from __future__ import annotations

import sys

import click

from multichat.cli.app import app, state
from multichat.errors import MultichatError

EXIT_INTERRUPTED = 130


def error_line(message: str) -> None:
    """Print ``multichat: error: message`` to stderr, in red where stderr is a terminal."""
    prefix = "multichat: error:"
    if sys.stderr.isatty():
        prefix = f"\x1b[31m{prefix}\x1b[0m"
    print(f"{prefix} {message}", file=sys.stderr)


def main(argv: list[str] | None = None) -> None:
    """Run the CLI and exit with its code: 0 ok, 1 failure, 2 bad input or usage, 130 Ctrl-C."""
    try:
        app(args=argv, prog_name="multichat", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        sys.exit(EXIT_INTERRUPTED)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        print("multichat: interrupted", file=sys.stderr)
        sys.exit(EXIT_INTERRUPTED)
    except MultichatError as exc:
        if state.debug:
            raise
        error_line(str(exc))
        sys.exit(exc.exit_code)
    sys.exit(0)
