"""``multichat auth NAME``: sign in the way the provider allows, or show or remove its token.

The provider's ``auth.mode`` picks the way: ``oauth`` serves its sign-in page on 127.0.0.1 and
opens the browser; ``token`` asks for a token without echo (or reads it from stdin with
``--with-token``, as ``gh auth login --with-token`` does); ``password`` asks for user and
password and exchanges them for tokens; ``device`` shows a code to enter on another device.
"""

from __future__ import annotations

import getpass
import json
import sys
import threading
import webbrowser
from pathlib import Path
from typing import Annotated, Any

import typer

from multichat.cli.options import ConfigOption, complete_provider, open_workspace
from multichat.errors import UserError


def auth(
    name: Annotated[
        str,
        typer.Argument(
            metavar="NAME", autocompletion=complete_provider, help="The provider to sign in to."
        ),
    ],
    with_token: Annotated[
        bool,
        typer.Option(
            "--with-token", help="Read a token (or API key) from stdin and save it once checked."
        ),
    ] = False,
    zuliprc: Annotated[
        Path | None,
        typer.Option(
            "--zuliprc", metavar="PATH", help="Zulip: sign in with the email and key of a zuliprc."
        ),
    ] = None,
    username: Annotated[
        str | None,
        typer.Option("--username", metavar="USER", help="Password sign-in: the user name."),
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Password sign-in: read it from stdin.")
    ] = False,
    no_browser: Annotated[
        bool, typer.Option("--no-browser", help="OAuth: print the URL instead of opening it.")
    ] = False,
    timeout: Annotated[
        float,
        typer.Option(
            "--timeout", min=1, metavar="SECONDS", help="OAuth: seconds to wait for the sign-in."
        ),
    ] = 300.0,
    status: Annotated[
        bool,
        typer.Option(
            "--status",
            rich_help_panel="Status",
            help="Ask the platform whether the token works; exit 1 if not, 3 if unknown.",
        ),
    ] = False,
    logout: Annotated[
        bool,
        typer.Option(
            "--logout",
            rich_help_panel="Status",
            help="Revoke the token where possible and delete it.",
        ),
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", rich_help_panel="Status", help="With --status: print JSON.")
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Sign in to NAME as its config says (oauth, token, password or device); save the token."""
    from multichat.contract import validate_provider_name

    validate_provider_name(name)
    if as_json and not status:
        raise UserError("--json goes with --status only")
    workspace = open_workspace(config, own_environment=True)
    settings = workspace.provider(name)
    if status:
        _status(workspace, name, as_json)
        return
    if logout:
        from multichat.runtime.local_signin import sign_out

        for line in sign_out(workspace, name):
            typer.echo(line)
        return
    mode = settings.auth.mode
    if with_token or zuliprc is not None:
        typer.echo(_token(workspace, name, zuliprc).line())
    elif mode == "token":
        typer.echo(_token(workspace, name, None).line())
    elif mode == "password":
        typer.echo(_password(workspace, name, username, password_stdin).line())
    elif mode == "device":
        typer.echo(_device(workspace, name).line())
    else:
        _sign_in(workspace, name, timeout, open_browser=not no_browser)


def _token(workspace: Any, name: str, zuliprc: Path | None) -> Any:
    from multichat.runtime.sign_in import sign_in_with_token

    if zuliprc is not None:
        from multichat.platforms.zuliprc import parse_zuliprc

        try:
            text = zuliprc.expanduser().read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UserError(f"cannot read {zuliprc}: {exc}") from None
        imported = parse_zuliprc(text)
        base = str(workspace.provider(name).api_base_url or "")
        if imported["site"] and not base.startswith(imported["site"]):
            typer.echo(
                f"multichat: warning: {zuliprc} is for {imported['site']}, but {name} calls "
                f"{base}: check `api_base_url`",
                err=True,
            )
        return sign_in_with_token(workspace, name, imported["access_token"], imported["username"])
    if sys.stdin.isatty():
        token = getpass.getpass(f"Token for {name} (not shown): ")
    else:
        token = sys.stdin.readline()
    try:
        return sign_in_with_token(workspace, name, token)
    finally:
        del token


def _password(workspace: Any, name: str, username: str | None, from_stdin: bool) -> Any:
    from multichat.runtime.sign_in import sign_in_with_password

    if from_stdin or not sys.stdin.isatty():
        if username is None:
            raise UserError("give --username USER with the password on stdin")
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        username = username or input(f"User for {name}: ").strip()
        password = getpass.getpass(f"Password for {username} (not shown): ")
    if not username or not password:
        raise UserError(f"{name}: a user name and a password are both needed")
    try:
        return sign_in_with_password(workspace, name, username, password)
    finally:
        del password


def _device(workspace: Any, name: str) -> Any:
    from multichat.runtime.sign_in import sign_in_with_device

    def show(code: Any) -> None:
        print(
            f"To sign in to {name}, open {code.verification_uri} and enter the code "
            f"{code.user_code} (it expires in {code.expires_in:.0f} s). Waiting...",
            file=sys.stderr,
            flush=True,
        )

    return sign_in_with_device(workspace, name, show)


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
    """Tell whether the next tool call's token works: exit 0 yes, 1 sign in again, 3 unknown."""
    from multichat.errors import EXIT_FAILURE, EXIT_UNCHECKED
    from multichat.runtime import provider_auth
    from multichat.runtime.identity import check_stored_token
    from multichat.runtime.sign_in import user_summary
    from multichat.runtime.token_store import TokenStoreUnreachable

    auth = provider_auth(name)
    auth.environment_credentials()  # an unsendable MULTICHAT_<NAME>_TOKEN is one line, exit 2
    try:
        check = check_stored_token(name)  # an unsendable token file too; before status()
    except TokenStoreUnreachable as exc:  # Redis is down: what `run` says, not "sign in"
        if as_json:
            report = {**auth.status(), "check": "unreachable", "authenticated": None}
            typer.echo(json.dumps({**report, "error": str(exc)}, indent=2, sort_keys=True))
        else:
            typer.echo(f"{name}: {exc}")
        raise typer.Exit(EXIT_UNCHECKED) from None
    report = auth.status()
    report.update(mode=workspace.provider(name).auth.mode, check=check.verdict)
    report["authenticated"] = {"accepted": True, "unchecked": True, "unreachable": None}.get(
        check.verdict, False
    )
    report["renewed"] = check.renewed
    if check.problem:
        report["error"] = check.problem
    if check.profile:
        report["user"] = user_summary(check.profile)
    if as_json:
        typer.echo(json.dumps(report, indent=2, sort_keys=True))
    else:
        for line in status_lines(name, report):
            typer.echo(line)
    if check.verdict == "unreachable":
        raise typer.Exit(EXIT_UNCHECKED)
    if not report["authenticated"]:
        raise typer.Exit(EXIT_FAILURE)


def status_lines(name: str, report: dict[str, Any]) -> list[str]:
    """``--status`` for people: a verdict line, then one field a line, never a Python dict.

    A token the platform rejected, or could not be asked about, is that one line alone.
    """
    check = report.get("check")
    if check == "rejected":
        return [str(report["error"])]  # names the provider, the reason and the fix
    if check == "unreachable":
        return [
            f"{name}: a token is stored, but the platform could not check it: {report['error']}"
        ]
    user = report.get("user") or {}
    shown = [str(user[key]) for key in ("name", "username", "email") if key in user]
    ident = next((str(user[key]) for key in ("id", "user_id", "sub") if key in user), "")
    if report["authenticated"]:
        who = f" as {shown[0] if shown else ident}" if shown or ident else ""
        state = f"signed in{who}"
    else:
        state = "not signed in"
    lines = [f"{name}: {state} (sign-in mode: {report['mode']})"]
    if user:
        lines.append(
            f"  user: {' '.join(shown) or ident}" + (f" ({ident})" if shown and ident else "")
        )
    if check == "unchecked":
        lines.append("  checked: no (set `auth.whoami` to have the platform check the token)")
    if report.get("renewed"):
        lines.append("  renewed: the access token had expired; the refresh token renewed it")
    if report.get("expires_at") and report["expires_in_seconds"] < 0:
        lines.append(f"  expired: {report['expires_at']}")
    elif report.get("expires_at"):
        lines.append(f"  expires: {report['expires_at']} (in {report['expires_in_seconds']} s)")
    if report.get("scopes"):
        lines.append(f"  scopes: {' '.join(report['scopes'])}")
    if str(report.get("source", "file")).startswith("environment"):
        lines.append(f"  token: from the {report['source']}")
    elif report.get("source") == "redis":
        lines.append(f"  token: in Redis, {report['token_path']}")
    else:
        lines.append(f"  token file: {report['token_path']}")
    if report.get("error"):
        lines.append(f"  problem: {report['error']}")
    return lines
