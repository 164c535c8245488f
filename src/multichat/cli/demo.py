"""``multichat demo``: everything, unattended, against the built-in sandbox platform."""

from __future__ import annotations

import json
import shlex
import time
from pathlib import Path
from typing import Annotated

import typer

from multichat.contract import STATE_DIR


def demo(
    directory: Annotated[
        Path | None,
        typer.Option(
            "--dir", metavar="DIR", help="Make the workspace here (default: a temp folder)."
        ),
    ] = None,
    keep: Annotated[
        bool, typer.Option("--keep", help="Keep the workspace and say how to use it.")
    ] = False,
) -> None:
    """Start the sandbox, make a workspace and provider, sign in, serve it over MCP, call tools."""
    from rich.console import Console

    from multichat.demo.steps import run_demo

    console = Console(highlight=False, soft_wrap=True)
    started = time.monotonic()

    def say(step: str, detail: str) -> None:
        console.print(f"[green]✓[/green] [bold]{step:<16}[/bold] {detail}")

    report = run_demo(directory, keep or directory is not None, say)
    console.print(f"Done in {time.monotonic() - started:.1f} s; everything it started is stopped.")
    if (keep or directory is not None) and report.workspace is not None:
        from multichat.clients import server_entry
        from multichat.invocation import invocation

        port = report.sandbox_url.rsplit(":", 1)[1]
        database = report.workspace / STATE_DIR / "sandbox.db"
        how = invocation(report.workspace)
        console.print("The workspace is kept. To use it from an MCP client:")
        console.print(f"  {how.words} sandbox --port {port} --db {shlex.quote(str(database))}")
        console.print(f"  cd {shlex.quote(str(report.workspace))} && {how.words} run")
        entry = server_entry(report.workspace, multichat=() if how.serves_with_uv else how.argv)
        server = {"command": entry.command, "args": list(entry.args)}
        console.print("  MCP client config: " + json.dumps({"mcpServers": {"sandbox": server}}))
