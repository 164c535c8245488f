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
        help="Path to provider-config.yaml (default: found from the working directory up).",
    ),
]


def open_workspace(config: Path | None, *, warn: bool = True) -> WorkspaceConfig:
    """Load the workspace's configuration and make it the one this process uses.

    With ``warn``, keys that look like misspelled settings are named on stderr, one per line.
    """
    from multichat.runtime import load_config, use_config

    workspace = load_config(config)
    use_config(workspace.path)
    if warn:
        for warning in workspace.warnings:
            typer.echo(f"multichat: warning: {warning}", err=True)
    return workspace
