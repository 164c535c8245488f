"""The Typer application and its global options; commands live in their own modules."""

from __future__ import annotations

from typing import Annotated

import typer

from multichat import __version__
from multichat.cli.help_format import HumanCommand, HumanGroup, exit_codes_epilog
from multichat.cli.state import state

#: ``-h`` as well as ``--help``, on every command (click passes it down to subcommands).
CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"]}

app = typer.Typer(
    name="multichat",
    help="Add chat platforms to an MCP server: generate providers, sign in, serve.",
    epilog=exit_codes_epilog(),
    cls=HumanGroup,
    context_settings=CONTEXT_SETTINGS,
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    # Plain help: Rich costs ~100 ms of import on every `--help` (the bench's `cli_help`).
    rich_markup_mode=None,
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"multichat {__version__}")
        raise typer.Exit()


@app.callback()
def _global_options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show a traceback instead of a one-line error.")
    ] = False,
) -> None:
    state.debug = debug


def _register() -> None:
    from multichat.cli import (
        auth,
        demo,
        doctor,
        init,
        install,
        new,
        remove,
        run,
        sandbox,
        upgrade,
    )

    app.command("demo", cls=HumanCommand)(demo.demo)
    app.command("init", cls=HumanCommand)(init.init)
    app.add_typer(new.new_app, name="new")
    app.add_typer(remove.remove_app, name="remove")
    app.add_typer(upgrade.upgrade_app, name="upgrade")
    app.command("auth", cls=HumanCommand)(auth.auth)
    app.command("run", cls=HumanCommand)(run.run)
    app.command("doctor", cls=HumanCommand)(doctor.doctor)
    app.command("install", cls=HumanCommand)(install.install)
    app.command("sandbox", cls=HumanCommand)(sandbox.sandbox)


_register()
