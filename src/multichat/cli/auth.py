"""``multichat auth NAME``: sign in with OAuth on loopback, or show or remove the token."""

from __future__ import annotations

import json
import sys
import threading
import webbrowser
from typing import Annotated, Any

import typer

from multichat.cli.options import ConfigOption, open_workspace


def auth(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The provider to sign in to.")],
    no_browser: Annotated[
        bool, typer.Option("--no-browser", help="Print the URL instead of opening a browser.")
    ] = False,
    timeout: Annotated[
        float,
        typer.Option(
            "--timeout", min=1, metavar="SECONDS", help="Seconds to wait for the sign-in."
        ),
    ] = 300.0,
    status: Annotated[
        bool, typer.Option("--status", help="Show the stored token's state; exit 1 if none.")
    ] = False,
    logout: Annotated[
        bool, typer.Option("--logout", help="Revoke the token where possible and delete it.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="With --status: print JSON.")] = False,
    config: ConfigOption = None,
) -> None:
    """Sign in to NAME (OAuth 2.0 code flow with PKCE on 127.0.0.1) and store its token."""
    from multichat.contract import validate_provider_name

    validate_provider_name(name)
    workspace = open_workspace(config)
    workspace.provider(name)
    if status:
        _status(workspace, name, as_json)
        return
    if logout:
        from multichat.runtime.local_signin import sign_out

        for line in sign_out(workspace, name):
            typer.echo(line)
        return
    _sign_in(workspace, name, timeout, open_browser=not no_browser)


def _sign_in(workspace: Any, name: str, timeout: float, *, open_browser: bool) -> None:
    from rich.console import Console

    from multichat.runtime.local_signin import sign_in

    console = Console(stderr=True)

    def ready(url: str) -> None:
        print(f"Sign in to {name}: {url}", file=sys.stderr, flush=True)
        if open_browser:
            webbrowser.open(url)

    def wait(event: threading.Event, seconds: float) -> bool:
        if not console.is_terminal:
            return event.wait(seconds)
        with console.status(f"Waiting for the sign-in to {name} (Ctrl-C to stop)"):
            return event.wait(seconds)

    message = sign_in(workspace, name, timeout=timeout, on_ready=ready, wait=wait)
    typer.echo(message)


def _status(workspace: Any, name: str, as_json: bool) -> None:
    from multichat.runtime import provider_auth
    from multichat.runtime.local_signin import who_am_i

    report = provider_auth(name).status()
    if report["authenticated"]:
        profile = who_am_i(workspace, name)
        if profile:
            report["user"] = {
                key: profile[key]
                for key in ("sub", "id", "name", "email", "preferred_username")
                if key in profile
            }
    if as_json:
        typer.echo(json.dumps(report, indent=2, sort_keys=True))
    else:
        state = "signed in" if report["authenticated"] else "not signed in"
        typer.echo(f"{name}: {state}")
        if report.get("user"):
            typer.echo(f"  user: {report['user']}")
        if report["expires_at"]:
            typer.echo(f"  expires: {report['expires_at']} (in {report['expires_in_seconds']} s)")
        if report["scopes"]:
            typer.echo(f"  scopes: {' '.join(report['scopes'])}")
        typer.echo(f"  token file: {report['token_path']}")
        if report.get("error"):
            typer.echo(f"  problem: {report['error']}")
    if not report["authenticated"]:
        raise typer.Exit(1)
