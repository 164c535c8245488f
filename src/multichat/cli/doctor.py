"""``multichat doctor``: check every provider against the three-file contract."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def doctor(
    config: Annotated[
        Path | None, typer.Option("--config", help="Path to provider-config.yaml.")
    ] = None,
) -> None:
    """Check each provider (contract files, config keys, token file); exit 1 if one is broken."""
    from multichat.checks import check_workspace
    from multichat.runtime import load_config

    workspace = load_config(config)
    findings = check_workspace(workspace)
    for finding in findings:
        typer.echo(finding.line())
    errors = sum(1 for finding in findings if finding.level == "error")
    warnings = sum(1 for finding in findings if finding.level == "warning")
    typer.echo(f"{len(workspace.providers)} provider(s): {errors} error(s), {warnings} warning(s)")
    if errors:
        raise typer.Exit(1)
