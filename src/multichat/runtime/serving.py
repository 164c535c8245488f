"""Serve a workspace: the one path behind ``multichat run`` and the guide's ``src.server``.

It refuses options that do not fit the transport, decides the HTTP protection before any
provider loads (a refused address starts nothing), builds the server, reports providers that
failed, settings that look misspelled and tool names that collide on stderr, and runs it.
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from multichat.errors import MultichatError, UserError
from multichat.runtime.config import WorkspaceConfig
from multichat.runtime.served_names import served_name_warnings
from multichat.runtime.server import Transport, build_server, run_server
from multichat.runtime.startup_report import StartupReport

if TYPE_CHECKING:
    from fastmcp import FastMCP


@dataclass(frozen=True)
class ServeOptions:
    """How to serve: the command-line options of ``run`` and of ``python -m src.server``."""

    providers: Sequence[str] = ()
    transport: Transport = "stdio"
    host: str = "127.0.0.1"
    port: int = 8000
    auth_token: str | None = field(default=None, repr=False)
    allow_unauthenticated: bool = False
    allowed_hosts: Sequence[str] = ()
    allowed_origins: Sequence[str] = ()
    #: List no provider tools until the client enables a toolset (runtime/dynamic.py).
    dynamic: bool = False
    #: Say the start-up events as JSON lines on stderr (runtime/startup_report.py).
    json_report: bool = False
    #: Streamable HTTP without sessions: instances behind one proxy answer any request.
    stateless: bool = False
    #: Serve a team: each person's own platform tokens, chosen by their verified identity.
    multi_user: bool = False
    #: Where people and MCP clients reach the server (``server.public_url`` otherwise).
    public_url: str | None = None


def serve_workspace(
    workspace: WorkspaceConfig, options: ServeOptions, say: Callable[[str], None]
) -> None:
    """Serve ``workspace`` until stopped; ``say`` prints a line on stderr.

    Raises:
        UserError: HTTP-only options with stdio, an unknown provider, a refused address.
        MultichatError: no provider is configured, or none could be loaded, or the Redis
            token store does not answer.
    """
    given = [
        option
        for option, used in (
            ("--auth-token", options.auth_token is not None),
            ("--allow-unauthenticated", options.allow_unauthenticated),
            ("--allowed-host", bool(options.allowed_hosts)),
            ("--allowed-origin", bool(options.allowed_origins)),
            ("--stateless", options.stateless),
            ("--multi-user", options.multi_user),
            ("--public-url", options.public_url is not None),
        )
        if used
    ]
    if options.transport == "stdio" and given:
        verb = "applies" if len(given) == 1 else "apply"
        raise UserError(f"{', '.join(given)} {verb} to --transport http only")
    if options.stateless and (options.dynamic or workspace.server.dynamic):
        # Enabled toolsets live in one process's memory: another instance would not know them.
        raise UserError(
            "--stateless serves any request from any instance, but dynamic mode keeps each "
            "client's toolsets in one process: use one of them"
        )
    protection = None
    public_url = _public_url(workspace, options)
    if options.multi_user:
        from multichat.runtime.multi_user import people_protection

        if options.auth_token is not None or options.allow_unauthenticated:
            raise UserError(
                "--multi-user tells people apart by their verified identity; a shared "
                "--auth-token or --allow-unauthenticated would serve everyone as one"
            )
        if public_url is None:
            raise UserError(
                "--multi-user needs the URL people reach this server at: pass --public-url "
                "https://... or set server.public_url in provider-config.yaml"
            )
        protection = people_protection(
            options.host,
            workspace,
            public_url,
            tuple(options.allowed_hosts),
            tuple(options.allowed_origins),
        )
    elif options.transport == "http":
        from multichat.runtime.http_security import http_protection

        protection = http_protection(
            options.host,
            token=options.auth_token,
            jwt=workspace.server.auth.jwt,
            allow_unauthenticated=options.allow_unauthenticated,
            allowed_hosts=options.allowed_hosts,
            allowed_origins=options.allowed_origins,
            workspace=workspace.root,
        )
    for name in options.providers:
        workspace.provider(name)
    if not workspace.providers:
        raise MultichatError(
            f"no providers in {workspace.path}: add one with `multichat new provider NAME`"
        )
    events = StartupReport(say, as_json=options.json_report)
    for warning in workspace.warnings:
        events.warning(warning)
    check_token_store(workspace)
    server, report = build_server(
        workspace, list(options.providers) or None, dynamic=options.dynamic
    )
    for failure in report.failures:
        events.skipped(failure.name, failure.reason)
    for warning in served_name_warnings(report):
        events.warning(warning)
    if not report.providers:
        raise MultichatError("no provider could be loaded (see above); `multichat doctor` helps")
    if options.multi_user and public_url is not None:
        from multichat.runtime.multi_user import serve_people

        signin = serve_people(server, workspace, public_url, report.providers)
        events.notice(f"multichat: serving each person with their own tokens at {public_url}/mcp")
        for name in report.providers:
            if signin.registers_callback(name):
                events.notice(
                    f"multichat: {name}: register {signin.callback_url(name)} at the platform"
                )
    port, listener = options.port, None
    if options.transport == "http":
        from multichat.runtime.addresses import listening_socket

        listener = listening_socket(options.host, options.port)
        port = listener.getsockname()[1]  # the one the system chose, for --port 0
    if protection is not None:  # about to serve: a new workspace token is saved, and shown
        protection = protection.with_token_kept()
    notice = protection.notice(port) if protection is not None else None
    if notice:
        events.notice(notice)
    events.loaded(report, options.transport, options.dynamic or workspace.server.dynamic)
    # What is loaded now lives as long as the process: the collector's passes skip it from
    # here on (the first tools/list of 200 providers spent 0.4 s of its 0.8 s in them).
    gc.freeze()
    run_server(
        server,
        options.transport,
        options.host,
        port,
        protection=protection,
        announce=events.serving,
        stateless=options.stateless,
        listener=listener,
        cancelled=events.cancelled,
    )


def check_token_store(workspace: WorkspaceConfig) -> None:
    """Fail before serving when the configured Redis token store does not answer.

    Raises:
        TokenStoreError: Redis is unreachable or refuses the password (one line, masked URL).
    """
    if not workspace.server.token_store.redis_url():
        return
    from multichat.runtime.redis_token_store import provider_store

    provider_store(workspace, next(iter(workspace.providers))).ping()


def _public_url(workspace: WorkspaceConfig, options: ServeOptions) -> str | None:
    """``--public-url`` (checked as the config's ``server.public_url`` is), or the config's."""
    if options.public_url is None:
        return workspace.server.public_url
    from pydantic import ValidationError

    from multichat.runtime.config import ServerSettings

    try:
        return ServerSettings(public_url=options.public_url).public_url
    except ValidationError as exc:
        reason = exc.errors()[0]["msg"].removeprefix("Value error, ")
        raise UserError(f"--public-url {options.public_url}: {reason}") from None


def workspace_server(anchor: str | os.PathLike[str] | None = None) -> FastMCP[Any]:
    """The workspace's server, built as ``multichat run`` builds it, for other MCP tools.

    ``anchor`` is a file of the workspace (``src/server.py`` passes its ``__file__``): the
    configuration is found from its folder up. FastMCP's CLI (``fastmcp inspect``, ``dev``,
    ``install``) calls this through the workspace's ``fastmcp.json``.
    """
    from multichat.runtime.config import find_config, load_config

    start = Path(anchor).resolve().parent if anchor is not None else None
    config = load_config(find_config(start))
    server, report = build_server(config)
    for failure in report.failures:
        sys.stderr.write(f"multichat: skipped provider {failure.name}: {failure.reason}\n")
    for warning in served_name_warnings(report):
        sys.stderr.write(f"multichat: warning: {warning}\n")
    return server
