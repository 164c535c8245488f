"""``multichat remove provider NAME``: delete a provider's files and its config entry."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from multichat.cli.help_format import HumanCommand, HumanGroup
from multichat.cli.options import ConfigOption, complete_provider
from multichat.cli.state import state
from multichat.errors import UserError

if TYPE_CHECKING:
    from multichat.generator.remove import RemovalPlan

remove_app = typer.Typer(
    cls=HumanGroup, help="Remove generated code from the workspace.", no_args_is_help=True
)


@remove_app.command("provider", cls=HumanCommand)
def provider(
    name: Annotated[
        str,
        typer.Argument(
            metavar="NAME", autocompletion=complete_provider, help="The provider to remove."
        ),
    ],
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Do not ask; also delete token and credentials.")
    ] = False,
    keep_token: Annotated[
        bool, typer.Option("--keep-token", help="Never delete the token or credentials files.")
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Also delete files you added in its folders.")
    ] = False,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="Show what would be deleted and what stays; change nothing."
        ),
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="With --dry-run: print the plan as JSON.")
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Delete src/providers/NAME, its tests, answers and baseline, and its config entry."""
    state.interrupted = "interrupted; nothing was changed"
    from multichat.contract import validate_provider_name

    validate_provider_name(name)
    if as_json and not dry_run:
        raise UserError("--json goes with --dry-run only")
    from multichat.generator.remove import remove_provider

    def confirm(plan: RemovalPlan) -> bool:
        typer.echo(plan.describe())
        if yes:
            return True
        if not sys.stdin.isatty():
            raise UserError("not a terminal, so nothing was removed: confirm with --yes")
        return typer.confirm(f"Remove provider {name}?", default=False)

    plan = remove_provider(
        config,
        name,
        delete_secrets=yes and not keep_token,
        force=force,
        dry_run=dry_run,
        confirm=confirm,
    )
    if dry_run:
        if as_json:
            typer.echo(json.dumps({"provider": name, **plan.as_json()}, indent=2))
            return
        typer.echo(plan.describe())
        if plan.refused:
            typer.echo(f"(refused without --force: {len(plan.user_files)} file(s) are yours)")
        typer.echo("(dry run: nothing was changed)")
        return
    if not plan.applied:
        typer.echo("Nothing was removed.")
        raise typer.Exit(1)
    typer.echo(f"Removed provider {name}.")
    for kept in plan.kept_secrets:
        typer.echo(f"  kept {kept} (delete it yourself, or use --yes without --keep-token)")
