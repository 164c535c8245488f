"""``multichat doctor``: check every provider, the workspace's token store and ignore files."""

from __future__ import annotations

import dataclasses
import json
from typing import Annotated

import typer

from multichat.cli.options import ConfigOption, open_workspace


def doctor(
    as_json: Annotated[bool, typer.Option("--json", help="Print the findings as JSON.")] = False,
    config: ConfigOption = None,
) -> None:
    """Check each provider (contract files, config keys, token), the token store and ignore files.

    Exit 1 when anything is broken.
    """
    from multichat.checks import check_workspace

    workspace = open_workspace(config, warn=False, own_environment=True)  # doctor lists warnings
    findings = check_workspace(workspace)
    errors = sum(1 for finding in findings if finding.level == "error")
    warnings = sum(1 for finding in findings if finding.level == "warning")
    if as_json:
        report = {
            "providers": len(workspace.providers),
            "errors": errors,
            "warnings": warnings,
            "findings": [dataclasses.asdict(finding) for finding in findings],
        }
        typer.echo(json.dumps(report, indent=2))
    else:
        for finding in findings:
            typer.echo(finding.line())
        typer.echo(
            f"{len(workspace.providers)} provider(s): {errors} error(s), {warnings} warning(s)"
        )
    if errors:
        raise typer.Exit(1)
