"""Who may use the MCP server over HTTP: bearer tokens, JWTs, and Host/Origin checks.

Every HTTP server requires authentication: a static bearer token (``--auth-token`` or
``MULTICHAT_HTTP_TOKEN``), a JWT verifier from ``server.auth.jwt`` in ``provider-config.yaml``,
or, on a loopback address with neither, the workspace's own token
(:mod:`~multichat.runtime.http_token`), so other users of the machine cannot use the signed-in
accounts. ``allow_unauthenticated`` is the explicit opt-out, for a proxy in front. A loopback
server also gets the DNS-rebinding checks the MCP transport specification asks for.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from fastmcp.server.auth import AccessToken, AuthProvider, MultiAuth, TokenVerifier
from mcp.server.transport_security import TransportSecurityMiddleware, TransportSecuritySettings
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from multichat.errors import InvalidHttpToken, UnprotectedHttp, UserError
from multichat.runtime.addresses import is_loopback, loopback_origins, url_host
from multichat.runtime.config import JWTSettings
from multichat.runtime.http_token import WorkspaceToken, keep_token, pending_workspace_token

if TYPE_CHECKING:
    from fastmcp.server.auth.providers.jwt import JWTVerifier

TOKEN_ENV = "MULTICHAT_HTTP_TOKEN"  # noqa: S105 - the variable's name, not a token
MIN_TOKEN_LENGTH = 16
#: RFC 6750's b64token: what an ``Authorization: Bearer`` header can carry as is.
_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
_TOKEN_CLIENT_ID = "multichat-http-token"  # noqa: S105 - a client id, not a token
_NAME = r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?)"
#: What ``--allowed-host`` takes: a Host header as the MCP SDK compares it.
_HOST = re.compile(_NAME + r"(:([0-9]{1,5}|\*))?")
#: What ``--allowed-origin`` takes: scheme, name and optional port, nothing after.
_ORIGIN = re.compile(r"https?://" + _NAME + r"(:([0-9]{1,5}|\*))?")


class BearerTokenVerifier(TokenVerifier):
    """Accept one static bearer token, compared in constant time.

    Both sides are hashed first so the comparison takes the same time whatever the length
    of the token sent. The token is kept out of ``repr`` and out of the ``AccessToken``
    handed to tools, so nothing downstream can log or read it.
    """

    def __init__(self, token: str) -> None:
        """Remember the SHA-256 of ``token`` (see :func:`check_token` for what is accepted)."""
        super().__init__()
        self._digest = hashlib.sha256(token.encode("utf-8")).digest()

    def __repr__(self) -> str:
        """Name the class only: the token must never reach a log line."""
        return f"{type(self).__name__}()"

    async def verify_token(self, token: str) -> AccessToken | None:
        """Return an access grant when ``token`` is the configured one, else ``None`` (401)."""
        digest = hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()
        if not hmac.compare_digest(digest, self._digest):
            return None
        return AccessToken(token="[redacted]", client_id=_TOKEN_CLIENT_ID, scopes=[])  # noqa: S106


def check_token(token: str, source: str) -> str:
    """Return ``token`` if a client can send it as a bearer token; ``source`` names its origin.

    Raises:
        InvalidHttpToken: it is shorter than :data:`MIN_TOKEN_LENGTH` or holds characters a
            bearer header cannot carry. The message never contains the token.
    """
    if len(token) < MIN_TOKEN_LENGTH or not _B64TOKEN.fullmatch(token):
        raise InvalidHttpToken(
            f"the HTTP bearer token from {source} must be at least {MIN_TOKEN_LENGTH} characters "
            "of A-Z a-z 0-9 - . _ ~ + / (make one with "
            "`openssl rand -base64 32`)"
        )
    return token


def jwt_verifier(settings: JWTSettings) -> JWTVerifier:
    """FastMCP's JWT verifier for the workspace's ``server.auth.jwt`` block."""
    # Imported here: it pulls in joserfc and cryptography, which stdio serving never needs.
    from fastmcp.server.auth.providers.jwt import JWTVerifier

    return JWTVerifier(
        jwks_uri=settings.jwks_uri,
        issuer=settings.issuer,
        audience=settings.audience,
        algorithm=settings.algorithm,
    )


@dataclass(frozen=True)
class HttpProtection:
    """What guards an HTTP server bound to ``host``: its auth provider, if any.

    Make one with :func:`http_protection`, which refuses unprotected non-loopback addresses.
    """

    host: str
    auth: AuthProvider | None
    allow_unauthenticated: bool = False
    methods: tuple[str, ...] = ()
    #: Host headers and Origins accepted on loopback besides the bound address's own (a local
    #: reverse proxy that forwards its public name, a browser client's site).
    allowed_hosts: tuple[str, ...] = ()
    allowed_origins: tuple[str, ...] = ()
    #: The workspace's own token, when neither a token nor a JWT verifier was given; a new
    #: one is saved by :meth:`with_token_kept`, once the server is about to serve.
    workspace_token: WorkspaceToken | None = None

    def with_token_kept(self) -> HttpProtection:
        """This protection with a new workspace token saved in its file, once serving starts.

        Another server starting at the same moment may have saved its token first: that one
        is then the token required.

        Raises:
            MultichatError: the token file cannot be written.
        """
        made = self.workspace_token
        if made is None or made.saved:
            return self
        kept = keep_token(made)
        if kept.token == made.token:
            return replace(self, workspace_token=kept)
        # The workspace token is the only verifier when there is one (see http_protection).
        verifier = BearerTokenVerifier(check_token(kept.token, str(kept.path)))
        return replace(self, auth=verifier, workspace_token=kept)

    @property
    def loopback(self) -> bool:
        """Whether the server is bound to a loopback address (Host/Origin checks apply)."""
        return is_loopback(self.host)

    def describe(self) -> str:
        """A few words for logs: how clients authenticate (never the secret itself)."""
        if self.auth is None:
            return "no authentication"
        return " or ".join(self.methods) or "authentication"

    def notice(self, port: int) -> str | None:
        """What to print on stderr at start: the unauthenticated warning, or the token's place.

        A token the workspace has just made is shown this once (as Jupyter shows its own), so
        the user can give it to an MCP client; afterwards only the file is named.
        """
        url = f"http://{url_host(self.host)}:{port}/mcp"
        made = self.workspace_token
        if made is not None:
            if made.created:
                return (
                    f"multichat: clients of {url} must send `Authorization: Bearer {made.token}`; "
                    f"the token was made for this workspace and saved in {made.path} (mode 0600)"
                )
            return f"multichat: clients of {url} must send the bearer token in {made.path}"
        if self.auth is not None or not self.allow_unauthenticated:
            return None
        return (
            f"multichat: WARNING: serving {url} WITHOUT AUTHENTICATION "
            "(--allow-unauthenticated): anyone who can reach it, other users of this machine "
            "included, can call every tool with your signed-in accounts"
        )


def http_protection(
    host: str,
    *,
    token: str | None = None,
    jwt: JWTSettings | None = None,
    allow_unauthenticated: bool = False,
    allowed_hosts: Sequence[str] = (),
    allowed_origins: Sequence[str] = (),
    environ: Mapping[str, str] | None = None,
    workspace: Path | None = None,
) -> HttpProtection:
    """Decide how an HTTP server on ``host`` is protected, or refuse to serve it.

    Args:
        host: The address to bind.
        token: A static bearer token; ``None`` reads :data:`TOKEN_ENV` from ``environ``.
        jwt: The workspace's ``server.auth.jwt`` settings, if any.
        allow_unauthenticated: Serve a non-loopback address without authentication.
        allowed_hosts: More Host headers a loopback server accepts (``name``, ``name:port`` or
            ``name:*``).
        allowed_origins: More Origins a loopback server accepts (``https://name[:port]``).
        environ: Where to read :data:`TOKEN_ENV` (the process environment by default).
        workspace: The workspace folder: with no token, JWT or opt-out, a loopback server
            requires the workspace's own token, made now if there is none but saved only by
            :meth:`HttpProtection.with_token_kept`.

    Raises:
        UnprotectedHttp: ``host`` is not loopback and nothing protects it.
        InvalidHttpToken: the token given cannot be used.
        UserError: an allowed host or origin is malformed, or given for a non-loopback address.
    """
    if (allowed_hosts or allowed_origins) and not is_loopback(host):
        raise UserError(
            f"--allowed-host and --allowed-origin apply to a loopback address; {host} is not "
            "one, and a server there is not Host-checked: it needs authentication instead"
        )
    hosts = tuple(
        _checked(value, _HOST, "--allowed-host", "NAME, NAME:PORT or NAME:*")
        for value in allowed_hosts
    )
    origins = tuple(
        _checked(value.rstrip("/"), _ORIGIN, "--allowed-origin", "http(s)://NAME[:PORT]")
        for value in allowed_origins
    )
    environ = os.environ if environ is None else environ
    verifiers: dict[str, TokenVerifier] = {}
    if token is not None:
        verifiers["bearer token"] = BearerTokenVerifier(check_token(token, "--auth-token"))
    elif TOKEN_ENV in environ:
        verifiers["bearer token"] = BearerTokenVerifier(check_token(environ[TOKEN_ENV], TOKEN_ENV))
    if jwt is not None:
        verifiers["JWT"] = jwt_verifier(jwt)
    made: WorkspaceToken | None = None
    if not verifiers and not allow_unauthenticated and is_loopback(host) and workspace:
        made = pending_workspace_token(workspace)
        verifiers["bearer token"] = BearerTokenVerifier(check_token(made.token, str(made.path)))
    auth: AuthProvider | None = None
    if len(verifiers) == 1:
        (auth,) = verifiers.values()
    elif verifiers:
        auth = MultiAuth(verifiers=list(verifiers.values()))
    if auth is None and not allow_unauthenticated:
        where = "which is not a loopback address, " if not is_loopback(host) else ""
        raise UnprotectedHttp(
            f"refusing to serve HTTP on {host}, {where}without protection: pass --auth-token "
            f"TOKEN (or set {TOKEN_ENV}), configure server.auth.jwt in provider-config.yaml, "
            "or pass --allow-unauthenticated if your own authenticating proxy is in front"
        )
    return HttpProtection(
        host=host,
        auth=auth,
        allow_unauthenticated=allow_unauthenticated,
        methods=tuple(verifiers),
        allowed_hosts=hosts,
        allowed_origins=origins,
        workspace_token=made,
    )


def _checked(value: str, pattern: re.Pattern[str], option: str, shape: str) -> str:
    if not pattern.fullmatch(value):
        raise UserError(f"{option} {value!r} is not of the form {shape}")
    return value


def rebinding_guard(
    host: str, port: int, more_hosts: Sequence[str] = (), more_origins: Sequence[str] = ()
) -> Middleware:
    """ASGI middleware refusing foreign Host (421) and Origin (403) headers on loopback.

    The MCP SDK's check is used because it compares ``host:port`` exactly. FastMCP's own
    guard (``host_origin_protection``) compares names only and lets any loopback Origin
    through, so a page served by another local port (``http://localhost:3000``) would pass;
    and FastMCP switches the SDK's check off inside its session manager, hence this adapter.
    """
    allowed_hosts, allowed_origins = loopback_origins(host, port)
    settings = TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=[*allowed_hosts, *more_hosts],
        allowed_origins=[*allowed_origins, *more_origins],
    )
    return Middleware(_HostOriginCheck, settings=settings)


class _HostOriginCheck:
    """Run the SDK's Host/Origin validation in front of every HTTP request."""

    def __init__(self, app: ASGIApp, settings: TransportSecuritySettings) -> None:
        self.app = app
        self.check = TransportSecurityMiddleware(settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            refusal = await self.check.validate_request(Request(scope), is_post=False)
            if refusal is not None:
                await refusal(scope, receive, send)
                return
        await self.app(scope, receive, send)
