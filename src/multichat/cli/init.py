"""``multichat init DIR``: make a workspace."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from multichat.cli.state import state


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
) -> None:
    """Make a workspace: provider-config.yaml, src/providers/, tests/, .gitignore, README."""
    state.interrupted = "interrupted; nothing was written"
    from multichat.generator.workspace import create_workspace

    created = create_workspace(
        directory, {"workspace_name": name} if name else None, dry_run=dry_run
    )
    if dry_run:
        for path in created.files:
            typer.echo(f"create  {path.relative_to(created.root.parent)}")
        typer.echo(f"(dry run: nothing was written; {len(created.files)} files)")
        return
    typer.echo(f"Created workspace {created.root} ({len(created.files)} files).")
    typer.echo("Next:")
    typer.echo(f"  cd {directory}")
    typer.echo("  uv run multichat new provider NAME")
    typer.echo("  uv run multichat run")
