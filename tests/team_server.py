"""A multi-user server for tests: the real ASGI app on uvicorn, people told apart by JWTs.

People are named by verified JWTs (FastMCP's ``JWTVerifier``, as ``server.auth.jwt``
configures it); the clients are real MCP clients over HTTP.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastmcp import Client
from fastmcp.server.auth.providers.jwt import JWTVerifier, RSAKeyPair
from helpers import free_port

from multichat.runtime import load_config, provider_auth
from multichat.runtime.http_security import HttpProtection
from multichat.runtime.loader import activate_workspace
from multichat.runtime.multi_user import serve_people
from multichat.runtime.server import build_server, protected_http_app
from multichat.runtime.token_access import reset_provider_auth
from multichat.runtime.users import (
    UserIdentity,
    acting_as,
    require_users,
    set_sign_in_link,
    user_token_path,
)
from multichat.sandbox import SandboxServer

ISSUER = "https://idp.example.test"
AUDIENCE = "multichat-team"
ALICE = UserIdentity(ISSUER, "alice-sub", "alice")
BOB = UserIdentity(ISSUER, "bob-sub", "bob")
CAROL = UserIdentity(ISSUER, "carol-sub", "carol")


def link_pattern(provider: str) -> re.Pattern[str]:
    """A person's sign-in link for ``provider`` inside a tool's error text."""
    return re.compile(rf"https?://\S+/signin/{provider}\?ticket=[\w\-%]+")


@dataclass
class Team:
    """The running team server and what the tests need to talk to it."""

    url: str
    public_url: str
    workspace: Path
    keys: RSAKeyPair
    secrets: list[str]

    def bearer(self, user: UserIdentity) -> str:
        token = self.keys.create_token(
            subject=user.subject,
            issuer=user.issuer,
            audience=AUDIENCE,
            additional_claims={"preferred_username": user.name},
        )
        self.secrets.append(token)
        return token

    def client(self, user: UserIdentity) -> Client[Any]:
        return Client(f"{self.url}/mcp", auth=self.bearer(user), timeout=30)


@contextmanager
def serving_team(
    workspace: Path, provider: str, tokens: Mapping[UserIdentity, dict[str, Any]]
) -> Iterator[Team]:
    """Serve ``workspace`` to people over HTTP, each of ``tokens`` already signed in."""
    port = free_port()
    config = load_config(workspace / "provider-config.yaml")
    activate_workspace(config)
    reset_provider_auth()
    secrets: list[str] = []
    for person, token in tokens.items():
        secrets += [token["access_token"], token.get("refresh_token", "")]
        with acting_as(person):
            provider_auth(provider).save_credentials(token)
    keys = RSAKeyPair.generate()
    public_url = f"http://127.0.0.1:{port}"
    server, report = build_server(config)
    assert report.failures == []
    serve_people(server, config, public_url, report.providers)
    verifier = JWTVerifier(public_key=keys.public_key, issuer=ISSUER, audience=AUDIENCE)
    app = protected_http_app(server, HttpProtection(host="127.0.0.1", auth=verifier), port)
    try:
        with SandboxServer(app=app, port=port) as running:
            yield Team(running.url, public_url, workspace, keys, [s for s in secrets if s])
    finally:
        require_users(False)
        set_sign_in_link(None)
        reset_provider_auth()
        for person in (ALICE, BOB, CAROL):
            user_token_path(workspace, person, provider).unlink(missing_ok=True)
