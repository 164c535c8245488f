"""The Typer application and its global options; commands live in their own modules."""

from __future__ import annotations

from typing import Annotated

import typer

from multichat import __version__
from multichat.cli.state import state

app = typer.Typer(
    name="multichat",
    help="Add chat platforms to an MCP server: generate providers, sign in, serve.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
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

    app.command("demo")(demo.demo)
    app.command("init")(init.init)
    app.add_typer(new.new_app, name="new")
    app.add_typer(remove.remove_app, name="remove")
    app.add_typer(upgrade.upgrade_app, name="upgrade")
    app.command("auth")(auth.auth)
    app.command("run")(run.run)
    app.command("doctor")(doctor.doctor)
    app.command("install")(install.install)
    app.command("sandbox")(sandbox.sandbox)


_register()
