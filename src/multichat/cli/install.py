"""``multichat install CLIENT``: add this workspace's MCP server to an MCP client's settings.

The client's file keeps every other byte; ``--dry-run`` shows the change, ``--remove`` takes
the entry out again. Files that live in the workspace (Claude Code's ``.mcp.json``, Cursor's
and VS Code's) name the workspace by a relative path or the client's own variable, so a
committed file names no folder of this machine.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path
from typing import Annotated

import typer

from multichat.cli.options import ConfigOption, complete_provider, open_workspace

#: How a client whose file sits in the workspace names the workspace in ``--directory``.
PROJECT_DIRECTORY = {
    # Claude Code starts a project's servers in the project folder (its .mcp.json's folder).
    "claude-code": ".",
    # VS Code and Cursor expand ${workspaceFolder} in their mcp.json
    # (code.visualstudio.com/docs/copilot/reference/mcp-configuration, cursor.com/docs).
    "cursor": "${workspaceFolder}",
    "vscode": "${workspaceFolder}",
}


def install(
    client: Annotated[
        str,
        typer.Argument(
            metavar="CLIENT",
            help="claude-desktop, claude-code, cursor, vscode, gemini-cli, goose, or mcp-json "
            "(prints the entry).",
        ),
    ],
    provider: Annotated[
        list[str] | None,
        typer.Option(
            "--provider",
            "-p",
            metavar="NAME",
            autocompletion=complete_provider,
            help="Serve only this provider (repeatable).",
        ),
    ] = None,
    name: Annotated[
        str | None, typer.Option("--name", metavar="NAME", help="The server's name in the client.")
    ] = None,
    env: Annotated[
        list[str] | None,
        typer.Option(
            "--env",
            metavar="VAR[=VALUE]",
            help="Pass a variable to the server (e.g. MULTICHAT_SLACK_TOKEN); without a value "
            "the client supplies it. Repeatable.",
        ),
    ] = None,
    remove: Annotated[bool, typer.Option("--remove", help="Take the entry out.")] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the change; write nothing.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="With --dry-run: print the change as JSON.")
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Add (or --remove) this workspace's server in an MCP client's settings file."""
    from multichat.clients import apply, plan_install, server_entry
    from multichat.clients.registry import get_client
    from multichat.contract import validate_provider_name

    if as_json and not dry_run:
        from multichat.errors import UserError

        raise UserError("--json goes with --dry-run only")
    spec = get_client(client)
    workspace = open_workspace(config)
    for wanted in provider or []:
        workspace.provider(validate_provider_name(wanted))
    in_workspace = spec.project_file
    multichat = _multichat_command(workspace.root, in_workspace=in_workspace)
    entry = server_entry(
        workspace.root,
        name=name,
        providers=provider or (),
        env=env or (),
        command="uv" if in_workspace else (shutil.which("uv") or "uv"),
        directory=PROJECT_DIRECTORY.get(client) if in_workspace else None,
        multichat=multichat,
    )
    change = plan_install(
        client,
        entry,
        home=Path.home(),
        cwd=workspace.root,
        platform=sys.platform,
        remove=remove,
        environ=dict(os.environ),
    )
    warnings = list(change.warnings)
    if in_workspace and multichat[:1] not in ([], ["multichat"]) and not remove:
        warnings.append(
            f"the entry starts {multichat[0]}, a path of this machine: put that multichat on "
            "PATH and run this again before you commit the file"
        )
    for warning in warnings:
        typer.echo(f"multichat: warning: {warning}", err=True)
    if as_json:
        report = {
            "client": client,
            "path": str(change.path) if change.path is not None else None,
            "changed": change.changed,
            "description": change.description,
            "diff": change.diff,
            "entry": change.new_text if change.path is None else None,
        }
        typer.echo(json.dumps(report, indent=2))
        return
    if change.path is None:
        typer.echo(change.new_text, nl=not change.new_text.endswith("\n"))
        return
    typer.echo(change.description)
    if dry_run:
        if change.diff:
            typer.echo(change.diff, nl=False)
        typer.echo("(dry run: nothing was written)")
        return
    apply(change)


def _multichat_command(root: Path, *, in_workspace: bool) -> list[str]:
    """The multichat a client starts; empty for ``uv run`` (the workspace's own multichat).

    Clients start servers without the shell's PATH (Claude Desktop from the macOS Dock), so a
    file of the user's names this multichat by its path; a file inside the workspace, which
    may be committed, names ``multichat`` when the shell finds this one by that name.
    """
    from multichat.invocation import invocation

    how = invocation(root)
    if how.serves_with_uv:
        return []
    return ["multichat"] if in_workspace and how.on_path else how.argv
