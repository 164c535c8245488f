"""``multichat sandbox``: serve the built-in sandbox chat platform on 127.0.0.1."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from multichat.cli.state import state


def sandbox(
    host: Annotated[
        str, typer.Option("--host", metavar="ADDRESS", help="Address to bind.")
    ] = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", metavar="PORT", help="Port to listen on (0: any free port).")
    ] = 8765,
    db: Annotated[
        Path | None,
        typer.Option(
            "--db",
            metavar="PATH",
            help="SQLite file to keep the data in (default: a temporary one).",
        ),
    ] = None,
    seed: Annotated[
        bool,
        typer.Option(
            "--seed/--no-seed",
            help="Seed an empty database with a team's conversation (--no-seed: people and "
            "channels only).",
        ),
    ] = True,
    token_ttl: Annotated[
        int,
        typer.Option("--token-ttl", min=1, metavar="SECONDS", help="Access token lifetime."),
    ] = 3600,
    device_code_ttl: Annotated[
        int,
        typer.Option(
            "--device-code-ttl", min=1, metavar="SECONDS", help="Device code lifetime (RFC 8628)."
        ),
    ] = 600,
    device_interval: Annotated[
        int,
        typer.Option(
            "--device-interval",
            min=0,
            metavar="SECONDS",
            help="Seconds a device must wait between polls (0: no wait).",
        ),
    ] = 5,
) -> None:
    """Serve the sandbox chat platform: OAuth 2.0 server, chat REST API, seeded conversation."""
    state.quiet_interrupt = True
    from multichat.sandbox import (
        SANDBOX_CLIENT_ID,
        SANDBOX_PASSWORDS,
        SANDBOX_PERSONAL_TOKENS,
        create_app,
    )
    from multichat.sandbox.server import base_url, bind_socket, serve

    sock = bind_socket(host, port)
    app = create_app(
        db,
        seed=seed,
        token_ttl=token_ttl,
        device_code_ttl=device_code_ttl,
        device_interval=device_interval,
    )
    url = base_url(sock)
    lines = [
        f"multichat sandbox: serving on {url} (Ctrl-C to stop)",
        f"  authorize URL:  {url}/oauth/authorize",
        f"  token URL:      {url}/oauth/token (grants: authorization_code, refresh_token, "
        "password, device_code)",
        f"  device URL:     {url}/oauth/device_authorization (RFC 8628)",
        f"  revoke URL:     {url}/oauth/revoke",
        f"  userinfo URL:   {url}/oauth/userinfo",
        f"  metadata URL:   {url}/.well-known/oauth-authorization-server",
        f"  API base URL:   {url}/api/v1",
        f"  client id:      {SANDBOX_CLIENT_ID} (public client, PKCE S256; redirect URI "
        "http://127.0.0.1:<any port>/auth/callback)",
        "  scopes:         chat:read chat:write users:read",
        "  signed-in user: ada (Ada Lovelace) on the consent page",
        f"  token page:     {url}/settings/tokens (make a personal access token)",
        f"  device page:    {url}/device (enter a device's user code)",
        f"  sign in as:     ada / {SANDBOX_PASSWORDS['ada']} (everyone's password: "
        "multichat.sandbox.SANDBOX_PASSWORDS)",
        f"  seeded token:   {SANDBOX_PERSONAL_TOKENS['ada']} (ada, every scope; everyone's: "
        "multichat.sandbox.SANDBOX_PERSONAL_TOKENS)",
        f"  admin token:    {app.state.admin_token} (header X-Sandbox-Admin, for /admin)",
        f"  database:       {app.state.db_path}",
    ]
    print("\n".join(lines), file=sys.stderr, flush=True)
    serve(app, sock)
