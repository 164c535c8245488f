"""``multichat run``: serve every configured provider as one MCP server."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from multichat.cli.options import ConfigOption, complete_provider, open_workspace
from multichat.cli.state import state

if TYPE_CHECKING:
    import subprocess
    from collections.abc import Callable, Generator


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def _log_level(value: str) -> str:
    """``--log-level``, any case; another word is a usage error naming the four."""
    if value.upper() not in LOG_LEVELS:
        raise typer.BadParameter(f"{value!r} is not one of {', '.join(LOG_LEVELS)}")
    return value.upper()


class TransportChoice(StrEnum):
    """The MCP transports ``run`` offers."""

    stdio = "stdio"
    http = "http"


def run(
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
    transport: Annotated[
        TransportChoice,
        typer.Option("--transport", "-t", help="stdio, or streamable HTTP at /mcp."),
    ] = TransportChoice.stdio,
    host: Annotated[
        str,
        typer.Option(
            "--host", metavar="ADDRESS", help="HTTP address to bind.", rich_help_panel="HTTP"
        ),
    ] = "127.0.0.1",
    port: Annotated[
        int,
        typer.Option(
            "--port",
            metavar="PORT",
            min=0,
            max=65535,
            help="HTTP port (0: one the system picks).",
            rich_help_panel="HTTP",
        ),
    ] = 8000,
    config: ConfigOption = None,
    log_level: Annotated[
        str,
        typer.Option(
            "--log-level",
            metavar="LEVEL",
            callback=_log_level,
            help="DEBUG, INFO, WARNING or ERROR (logs go to stderr).",
        ),
    ] = "WARNING",
    auth_token: Annotated[
        str | None,
        typer.Option(
            "--auth-token",
            metavar="TOKEN",
            show_default=False,
            rich_help_panel="HTTP",
            help=(
                "HTTP: require this bearer token (16+ characters). Prefer the "
                "MULTICHAT_HTTP_TOKEN variable: a command line is visible to other users."
            ),
        ),
    ] = None,
    allow_unauthenticated: Annotated[
        bool,
        typer.Option(
            "--allow-unauthenticated",
            rich_help_panel="HTTP",
            help="HTTP: serve a non-loopback address without auth (your own proxy in front).",
        ),
    ] = False,
    allowed_host: Annotated[
        list[str] | None,
        typer.Option(
            "--allowed-host",
            metavar="HOST",
            rich_help_panel="HTTP",
            help="HTTP on loopback: also accept this Host header (a local proxy's public name; "
            "NAME, NAME:PORT or NAME:*). Repeatable.",
        ),
    ] = None,
    reload: Annotated[
        bool,
        typer.Option(
            "--reload",
            rich_help_panel="Development",
            help="Restart the server when a file under src/ or provider-config.yaml changes "
            "(stdio clients must reconnect).",
        ),
    ] = False,
    allowed_origin: Annotated[
        list[str] | None,
        typer.Option(
            "--allowed-origin",
            metavar="ORIGIN",
            rich_help_panel="HTTP",
            help="HTTP on loopback: also accept this Origin (https://NAME[:PORT]). Repeatable.",
        ),
    ] = None,
    json_report: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Say the start-up events (warnings, skipped providers, what is served, the "
            "HTTP URL) as JSON lines on stderr, for scripts and supervisors.",
        ),
    ] = False,
    dynamic: Annotated[
        bool,
        typer.Option(
            "--dynamic",
            rich_help_panel="Tools",
            help="List no provider tools at first: the client enables toolsets as it needs "
            "them (multichat_list_toolsets, multichat_enable_toolset). Also `server.dynamic`.",
        ),
    ] = False,
    stateless: Annotated[
        bool,
        typer.Option(
            "--stateless",
            rich_help_panel="HTTP",
            help="HTTP: keep no MCP session, so any of several instances answers any request.",
        ),
    ] = False,
    multi_user: Annotated[
        bool,
        typer.Option(
            "--multi-user",
            rich_help_panel="HTTP",
            help="HTTP: serve a team; each person signs in (server.auth.oidc) and uses only "
            "their own platform tokens.",
        ),
    ] = False,
    public_url: Annotated[
        str | None,
        typer.Option(
            "--public-url",
            rich_help_panel="HTTP",
            metavar="URL",
            show_default=False,
            help="HTTP: the URL people reach this server at (overrides server.public_url).",
        ),
    ] = None,
) -> None:
    """Serve the workspace's providers over MCP; tools are named PROVIDER_TOOL."""
    state.quiet_interrupt = True
    _stop_on_sigterm()
    from multichat.contract import validate_provider_name

    for name in provider or []:
        validate_provider_name(name)  # the rule of `new provider`, before the runtime loads
    if reload:
        _serve_reloading(open_workspace(config, warn=False, own_environment=True).path)
        return
    from multichat.runtime import configure_logging
    from multichat.runtime.serving import ServeOptions, serve_workspace

    configure_logging(log_level.upper())
    options = ServeOptions(
        providers=provider or (),
        transport=transport.value,
        host=host,
        port=port,
        auth_token=auth_token,
        allow_unauthenticated=allow_unauthenticated,
        allowed_hosts=allowed_host or (),
        allowed_origins=allowed_origin or (),
        dynamic=dynamic,
        json_report=json_report,
        stateless=stateless,
        multi_user=multi_user,
        public_url=public_url,
    )
    serve_workspace(
        open_workspace(config, warn=False, own_environment=True),
        options,
        say=lambda line: typer.echo(line, err=True),
    )


def _stop_on_sigterm() -> None:
    """SIGTERM stops the server as asked, with exit 0, whenever it comes (docs/cli.md).

    While serving, the server catches it itself to stop gracefully (runtime/stdio.py,
    runtime/http_shutdown.py); this covers loading, before it does.
    """
    import signal

    def stop(signum: int, frame: object) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)


def _serve_reloading(config_path: Path) -> None:
    """Run this same ``run`` (without ``--reload``) in a child; restart it when files change.

    The child is a fresh interpreter, so an edited provider is imported anew; it inherits
    stdin and stdout, so over stdio the client talks to it directly (and reconnects after a
    restart). Ctrl-C reaches the child too (one process group): it is then waited for, not
    signalled again, which would cut its graceful shutdown short. A child that ends by itself
    with success (over stdio: its client closed stdin) ends the watch too.
    """
    import signal
    import subprocess
    import sys

    command = [sys.executable, "-m", "multichat", *(a for a in state.argv if a != "--reload")]
    changes = _workspace_changes(config_path)
    server = subprocess.Popen(command)

    def terminated(signum: int, frame: object) -> None:  # a process manager stopping us
        server.terminate()
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, terminated)
    try:
        for names in changes:
            if server.poll() == 0:  # it ended by itself: over stdio, the client closed stdin
                return
            if not names:  # a failed server waits here for the edit that mends it
                continue
            typer.echo(f"multichat: {', '.join(names)} changed: restarting the server", err=True)
            _stop(server, interrupt=True)
            server = subprocess.Popen(command)
    except KeyboardInterrupt:
        pass  # the child has it too, and is waited for below
    finally:
        changes.close()
        _stop(server, interrupt=False)  # after Ctrl-C: the child has it already


def _workspace_changes(config_path: Path) -> Generator[list[str], None, None]:
    """Start watching; yield the names of files changed under ``src/`` or the config file.

    An empty list comes twice a second without a change; closing the generator stops the
    watchers. The config is watched through its folder (not recursively: that folder holds
    ``.venv``), filtered by name: editors, ``sed -i`` and multichat's own atomic writes replace
    the file, and a watch on the file itself would follow the replaced one and go deaf. One
    watcher per folder, each on a thread, since watchfiles' ``recursive`` holds for all paths.
    """
    import logging
    import queue
    import threading

    from multichat.errors import UserError

    try:
        import watchfiles
    except ImportError:
        raise UserError("--reload needs watchfiles: `uv add watchfiles`") from None
    logging.getLogger("watchfiles").setLevel(logging.ERROR)
    config_name = config_path.name
    source = config_path.parent / "src"
    watched: list[tuple[Path, bool, Callable[[watchfiles.Change, str], bool]]] = [
        (config_path.parent, False, lambda change, path: Path(path).name == config_name)
    ]
    if source.is_dir():
        watched.append((source, True, watchfiles.PythonFilter(extra_extensions=(".yaml", ".yml"))))
    shown = [str(source)] if source.is_dir() else []
    typer.echo(
        f"multichat: watching {', '.join([*shown, str(config_path)])} for changes (--reload)",
        err=True,
    )
    found: queue.Queue[set[tuple[watchfiles.Change, str]]] = queue.Queue()
    stop = threading.Event()

    def follow(
        folder: Path, recursive: bool, keep: Callable[[watchfiles.Change, str], bool]
    ) -> None:
        for changed in watchfiles.watch(
            folder, watch_filter=keep, recursive=recursive, stop_event=stop
        ):
            found.put(changed)

    for folder, recursive, keep in watched:
        threading.Thread(target=follow, args=(folder, recursive, keep), daemon=True).start()

    def names() -> Generator[list[str], None, None]:
        try:
            while True:
                try:
                    changed = found.get(timeout=0.5)  # wake to see whether the server ended
                except queue.Empty:
                    changed = set()
                yield sorted({Path(path).name for _, path in changed})
        finally:
            stop.set()

    return names()


def _stop(process: subprocess.Popen[bytes], *, interrupt: bool, grace: float = 10.0) -> None:
    """Stop the child server (SIGINT, as Ctrl-C would, when ``interrupt``); kill it if stuck."""
    import signal
    import subprocess

    if interrupt and process.poll() is None:
        process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
