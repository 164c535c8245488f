"""``multichat init DIR``: make a workspace."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Annotated

import typer

from multichat.cli.state import state
from multichat.errors import UserError


def init(
    directory: Annotated[
        Path, typer.Argument(metavar="DIR", help="Folder to create (must be new or empty).")
    ],
    name: Annotated[
        str | None, typer.Option("--name", help="Project name (default: from the folder).")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List the files it would create; write nothing.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="With --dry-run: print the files as JSON.")
    ] = False,
) -> None:
    """Make a workspace: provider-config.yaml, src/providers/, tests/, .gitignore, README."""
    state.interrupted = "interrupted; nothing was written"
    if as_json and not dry_run:
        raise UserError("--json goes with --dry-run only")
    from multichat.generator.workspace import create_workspace

    created = create_workspace(
        directory, {"workspace_name": name} if name else None, dry_run=dry_run
    )
    if as_json:
        files = [path.relative_to(created.root).as_posix() for path in created.files]
        typer.echo(json.dumps({"directory": str(created.root), "files": files}, indent=2))
        return
    if dry_run:
        for path in created.files:
            typer.echo(f"create  {path.relative_to(created.root.parent)}")
        typer.echo(f"(dry run: nothing was written; {len(created.files)} files)")
        return
    from multichat.invocation import invocation

    multichat = invocation(created.root).words
    typer.echo(f"Created workspace {created.root} ({len(created.files)} files).")
    typer.echo("Next:")
    typer.echo(f"  cd {shlex.quote(str(directory))}")
    typer.echo(f"  {multichat} new provider NAME")
    typer.echo(f"  {multichat} run")
