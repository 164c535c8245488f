"""The guide's ``python -m src.server --provider NAME [--local-auth]``, served by the runtime."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from multichat.contract import package_name
from multichat.errors import MultichatError
from multichat.runtime.config import load_config
from multichat.runtime.loader import activate_workspace
from multichat.runtime.logs import configure_logging
from multichat.runtime.serving import ServeOptions, serve_workspace


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m src.server", description="Serve this workspace's providers over MCP."
    )
    parser.add_argument("--provider", action="append", help="serve only this provider (repeatable)")
    parser.add_argument("--local-auth", action="store_true", help="run the provider's auth server")
    parser.add_argument("--transport", choices=["stdio", "http"], default="stdio")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=None)
    parser.add_argument("--config", default=None, help="path to provider-config.yaml")
    parser.add_argument("--log-level", default="WARNING")
    parser.add_argument(
        "--auth-token",
        default=None,
        metavar="TOKEN",
        help="HTTP: require this bearer token (or set MULTICHAT_HTTP_TOKEN)",
    )
    parser.add_argument(
        "--allow-unauthenticated",
        action="store_true",
        help="HTTP: serve a non-loopback address without auth (your own proxy in front)",
    )
    parser.add_argument(
        "--allowed-host",
        action="append",
        default=[],
        metavar="HOST",
        help="HTTP on loopback: also accept this Host header (repeatable)",
    )
    parser.add_argument(
        "--allowed-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="HTTP on loopback: also accept this Origin (repeatable)",
    )
    parser.add_argument(
        "--multi-user",
        action="store_true",
        help="HTTP: serve a team; each person uses only their own platform tokens",
    )
    parser.add_argument(
        "--public-url",
        default=None,
        metavar="URL",
        help="HTTP: the URL people reach this server at (overrides server.public_url)",
    )
    return parser


def _say(message: str) -> None:
    """Write one message to stderr: stdout may be the MCP channel."""
    sys.stderr.write(f"{message}\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the guide's server command; returns the process exit code.

    This script is not the ``multichat`` CLI, so it turns errors into a line and a code itself.
    """
    args = _parser().parse_args(argv)
    configure_logging(args.log_level)
    try:
        config = load_config(args.config)
        if args.local_auth:
            return _local_auth(args)
        options = ServeOptions(
            providers=args.provider or (),
            transport=args.transport,
            host=args.host,
            port=args.port or 8000,
            auth_token=args.auth_token,
            allow_unauthenticated=args.allow_unauthenticated,
            allowed_hosts=args.allowed_host,
            allowed_origins=args.allowed_origin,
            multi_user=args.multi_user,
            public_url=args.public_url,
        )
        serve_workspace(config, options, say=_say)
    except MultichatError as exc:
        _say(f"multichat: {exc}")
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    return 0


def _local_auth(args: argparse.Namespace) -> int:
    if not args.provider or len(args.provider) != 1:
        _say("multichat: --local-auth needs exactly one --provider NAME")
        return 2
    name = args.provider[0]
    config = load_config(args.config)
    provider = config.provider(name)
    activate_workspace(config)
    port = args.port or provider.port or 8000
    callback = provider.callback_url or f"http://{args.host}:{port}/auth/callback"
    _say(
        f"Starting local authentication server for {name} at http://{args.host}:{port}\n"
        "  - /auth          : start the OAuth flow\n"
        "  - /status        : check authentication status\n"
        "  - /auth/callback : OAuth callback endpoint\n"
        f"Callback URL: {callback}\n"
        f"Token will be stored at: {config.token_path(name)}\n"
        "Press CTRL+C to stop the server"
    )
    module = importlib.import_module(f"{package_name(name)}.server_auth")
    module.run_auth_server(host=args.host, port=port)
    return 0
