"""``multichat run``: serve every configured provider as one MCP server."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from multichat.cli.options import ConfigOption, open_workspace
from multichat.cli.state import state


class TransportChoice(StrEnum):
    """The MCP transports ``run`` offers."""

    stdio = "stdio"
    http = "http"


def run(
    provider: Annotated[
        list[str] | None,
        typer.Option("--provider", "-p", help="Serve only this provider (repeatable)."),
    ] = None,
    transport: Annotated[
        TransportChoice,
        typer.Option("--transport", "-t", help="stdio, or streamable HTTP at /mcp."),
    ] = TransportChoice.stdio,
    host: Annotated[str, typer.Option("--host", help="HTTP address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="HTTP port.")] = 8000,
    config: ConfigOption = None,
    log_level: Annotated[
        str, typer.Option("--log-level", help="Log level (logs go to stderr).")
    ] = "WARNING",
    auth_token: Annotated[
        str | None,
        typer.Option(
            "--auth-token",
            metavar="TOKEN",
            show_default=False,
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
            help="HTTP: serve a non-loopback address without auth (your own proxy in front).",
        ),
    ] = False,
    allowed_host: Annotated[
        list[str] | None,
        typer.Option(
            "--allowed-host",
            metavar="HOST",
            help="HTTP on loopback: also accept this Host header (a local proxy's public name; "
            "NAME, NAME:PORT or NAME:*). Repeatable.",
        ),
    ] = None,
    allowed_origin: Annotated[
        list[str] | None,
        typer.Option(
            "--allowed-origin",
            metavar="ORIGIN",
            help="HTTP on loopback: also accept this Origin (https://NAME[:PORT]). Repeatable.",
        ),
    ] = None,
    multi_user: Annotated[
        bool,
        typer.Option(
            "--multi-user",
            help="HTTP: serve a team; each person signs in (server.auth.oidc) and uses only "
            "their own platform tokens.",
        ),
    ] = False,
    public_url: Annotated[
        str | None,
        typer.Option(
            "--public-url",
            metavar="URL",
            show_default=False,
            help="HTTP: the URL people reach this server at (overrides server.public_url).",
        ),
    ] = None,
) -> None:
    """Serve the workspace's providers over MCP; tools are named PROVIDER_TOOL."""
    state.quiet_interrupt = True
    from multichat.contract import validate_provider_name

    for name in provider or []:
        validate_provider_name(name)  # the rule of `new provider`, before the runtime loads
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
        multi_user=multi_user,
        public_url=public_url,
    )
    serve_workspace(
        open_workspace(config, warn=False, own_environment=True),
        options,
        say=lambda line: typer.echo(line, err=True),
    )
