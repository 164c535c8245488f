"""The ``multichat`` command line: Typer commands, one module per command group.

``multichat.cli.main`` is the only place that turns :class:`multichat.errors.MultichatError`
into a line on stderr and an exit code. ``--version`` is answered here, before Typer loads.
Every command's stdout drops its output, instead of failing, once its reader has gone
(:mod:`.closed_stdout`).
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> None:
    """Entry point of the console script."""
    from multichat.cli.closed_stdout import drop_output_once_its_reader_is_gone

    drop_output_once_its_reader_is_gone()
    args = sys.argv[1:] if argv is None else argv
    if args == ["--version"]:
        from multichat import __version__

        print(f"multichat {__version__}")
        return
    if _makes_a_provider(args):
        from multichat.generator.import_check import start_early_probe

        start_early_probe()
    try:
        from multichat.cli.main import main as run
    except KeyboardInterrupt:  # Ctrl-C while Typer loads: before any command began
        print("multichat: interrupted", file=sys.stderr)
        sys.exit(130)
    run(argv)


def _makes_a_provider(args: list[str]) -> bool:
    """``new provider ...`` that is not a call for help: it may need the import check."""
    words = [arg for arg in args if arg != "--debug"]
    return words[:2] == ["new", "provider"] and not {"--help", "-h"} & set(words)


__all__ = ["main"]
