"""Serve a workspace: the one path behind ``multichat run`` and the guide's ``src.server``.

It refuses options that do not fit the transport, decides the HTTP protection before any
provider loads (a refused address starts nothing), builds the server, reports providers that
failed and settings that look misspelled on stderr, and runs it.
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
from multichat.runtime.server import Transport, build_server, run_server

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


def serve_workspace(
    workspace: WorkspaceConfig, options: ServeOptions, say: Callable[[str], None]
) -> None:
    """Serve ``workspace`` until stopped; ``say`` prints a line on stderr.

    Raises:
        UserError: HTTP-only options with stdio, an unknown provider, a refused address.
        MultichatError: no provider is configured, or none could be loaded.
    """
    given = [
        option
        for option, used in (
            ("--auth-token", options.auth_token is not None),
            ("--allow-unauthenticated", options.allow_unauthenticated),
            ("--allowed-host", bool(options.allowed_hosts)),
            ("--allowed-origin", bool(options.allowed_origins)),
        )
        if used
    ]
    if options.transport == "stdio" and given:
        raise UserError(f"{', '.join(given)} apply to --transport http only")
    protection = None
    if options.transport == "http":
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
    for warning in workspace.warnings:
        say(f"multichat: warning: {warning}")
    server, report = build_server(workspace, list(options.providers) or None)
    for failure in report.failures:
        say(f"multichat: skipped provider {failure.name}: {failure.reason}")
    if not report.providers:
        raise MultichatError("no provider could be loaded (see above); `multichat doctor` helps")
    notice = protection.notice(options.port) if protection is not None else None
    if notice:
        say(notice)
    # What is loaded now lives as long as the process: the collector's passes skip it from
    # here on (the first tools/list of 200 providers spent 0.4 s of its 0.8 s in them).
    gc.freeze()
    run_server(server, options.transport, options.host, options.port, protection=protection)


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
    return server
