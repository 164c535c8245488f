"""Options and steps that several commands share."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from multichat.runtime import WorkspaceConfig

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        metavar="PATH",
        help="Path to provider-config.yaml (default: found from the working directory up).",
    ),
]


def complete_provider(ctx: typer.Context, incomplete: str) -> list[str]:
    """Shell completion of the workspace's provider names (the module loads only when asked)."""
    from multichat.cli import completion

    return completion.complete_provider(ctx, incomplete)


def complete_preset(incomplete: str) -> list[str]:
    """Shell completion of ``--preset`` (the module loads only when asked)."""
    from multichat.cli import completion

    return completion.complete_preset(incomplete)


def open_workspace(
    config: Path | None, *, warn: bool = True, own_environment: bool = False
) -> WorkspaceConfig:
    """Load the workspace's configuration and make it the one this process uses.

    With ``warn``, keys that look like misspelled settings are named on stderr, one per line.
    With ``own_environment``, a workspace with an environment of its own (``.venv``) gets the
    command re-run there (see :mod:`.workspace_env`); this call then does not return.
    """
    from multichat.runtime import load_config, use_config

    workspace = load_config(config)
    if own_environment:
        from multichat.cli.state import state
        from multichat.cli.workspace_env import hand_over_to_workspace

        hand_over_to_workspace(workspace.root, state.argv)
    use_config(workspace.path)
    if warn:
        for warning in workspace.warnings:
            typer.echo(f"multichat: warning: {warning}", err=True)
    return workspace
