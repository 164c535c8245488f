"""``multichat doctor``: check every provider against the three-file contract."""

from __future__ import annotations

import typer

from multichat.cli.options import ConfigOption, open_workspace


def doctor(
    config: ConfigOption = None,
) -> None:
    """Check each provider (contract files, config keys, token file); exit 1 if one is broken."""
    from multichat.checks import check_workspace

    workspace = open_workspace(config, warn=False, own_environment=True)  # doctor lists warnings
    findings = check_workspace(workspace)
    for finding in findings:
        typer.echo(finding.line())
    errors = sum(1 for finding in findings if finding.level == "error")
    warnings = sum(1 for finding in findings if finding.level == "warning")
    typer.echo(f"{len(workspace.providers)} provider(s): {errors} error(s), {warnings} warning(s)")
    if errors:
        raise typer.Exit(1)
