"""One server for a team: each MCP request runs as the person its verified token names.

:class:`PersonPerRequest` (FastMCP middleware) reads the token FastMCP verified for the request
(issuer and ``sub``), sets :data:`~.users.current_user` for the request's whole handling, and
writes one audit line per tool call naming the person, the tool and the outcome (never a token
or a sign-in link). :func:`serve_people` wires it, the sign-in routes and the refusal of
person-less calls onto a server; :func:`oidc_proxy` is FastMCP's OIDC proxy for the identity
provider named in ``server.auth.oidc``, which gives MCP clients OAuth 2.1 (metadata, dynamic
client registration, PKCE) with this server.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from fastmcp.server.dependencies import get_access_token
from fastmcp.server.middleware import CallNext, Middleware, MiddlewareContext

from multichat.contract import STATE_DIR
from multichat.errors import UserError
from multichat.runtime.config import OIDCSettings, WorkspaceConfig, token_dir
from multichat.runtime.users import (
    UserIdentity,
    acting_as,
    require_users,
    set_sign_in_link,
)

if TYPE_CHECKING:
    from collections.abc import Iterable

    import mcp.types as mt
    from fastmcp import FastMCP
    from fastmcp.server.auth import AccessToken, AuthProvider
    from fastmcp.server.auth.oidc_proxy import OIDCProxy
    from fastmcp.tools import ToolResult
    from key_value.aio.protocols.key_value import AsyncKeyValue

    from multichat.runtime.http_security import HttpProtection
    from multichat.runtime.redis_token_store import RedisPlace
    from multichat.runtime.user_signin import UserSignIn

audit = logging.getLogger("multichat.audit")

#: Where the identity provider sends people back to this server (register it there).
OIDC_CALLBACK_PATH = "/oidc/callback"
OIDC_SECRET_ENV = "MULTICHAT_OIDC_CLIENT_SECRET"  # noqa: S105 - a variable's name
#: The OAuth proxy's state (client registrations, encrypted upstream tokens) and its key.
PROXY_DIR = STATE_DIR / "oauth-proxy"


def proxy_dir(workspace: Path) -> Path:
    """``workspace/.multichat/oauth-proxy``, or ``$MULTICHAT_TOKEN_DIR/oauth-proxy`` when set.

    It holds secrets that change while the server runs, as the tokens do, so it goes where
    they go: a container may mount the workspace read-only and the token folder writable.

    Raises:
        ConfigError: ``MULTICHAT_TOKEN_DIR`` names something that is not a folder.
    """
    folder = token_dir()
    return folder / PROXY_DIR.name if folder is not None else workspace / PROXY_DIR


def identity_of(token: AccessToken | None) -> UserIdentity | None:
    """The person a verified token names (``iss`` and ``sub``), or ``None`` when it names none."""
    if token is None:
        return None
    claims = token.claims or {}
    subject = claims.get("sub") or getattr(token, "subject", None)
    if not isinstance(subject, str) or not subject:
        return None
    issuer = claims.get("iss")
    name = next(
        (
            str(claims[key])
            for key in ("preferred_username", "email", "name")
            if isinstance(claims.get(key), str) and claims[key]
        ),
        "",
    )
    issuer_text = issuer if isinstance(issuer, str) else ""
    return UserIdentity(issuer=issuer_text, subject=subject, name=name)


class PersonPerRequest(Middleware):
    """Run each MCP request as its person, and audit each tool call."""

    async def on_request(
        self, context: MiddlewareContext[Any], call_next: CallNext[Any, Any]
    ) -> Any:
        """Set :data:`~.users.current_user` from the request's verified token, then go on."""
        with acting_as(identity_of(get_access_token())):
            return await call_next(context)

    async def on_call_tool(
        self,
        context: MiddlewareContext[mt.CallToolRequestParams],
        call_next: CallNext[mt.CallToolRequestParams, ToolResult],
    ) -> ToolResult:
        """One audit line per call: person, tool, outcome and milliseconds."""
        user = identity_of(get_access_token())
        who = user.describe() if user is not None else "(no identity)"
        tool = context.message.name
        started = time.perf_counter()
        outcome = "ok"
        try:
            with acting_as(user):
                return await call_next(context)
        except Exception as exc:
            # The tool layer turns our errors into ToolError `from None`; the original (a
            # SignInRequired, say) is still its __context__. Only the class is logged: a
            # message may hold a sign-in link, which is as good as a password for ten minutes.
            cause = exc.__context__ if exc.__context__ is not None else exc
            outcome = f"error {type(cause).__name__}"
            raise
        finally:
            elapsed = (time.perf_counter() - started) * 1000
            audit.info("call user=%s tool=%s outcome=%s ms=%.0f", who, tool, outcome, elapsed)


def serve_people(
    server: FastMCP[Any], config: WorkspaceConfig, public_url: str, providers: Iterable[str]
) -> UserSignIn:
    """Make ``server`` serve each person with their own tokens; returns the sign-in routes.

    Each of ``providers`` (those served) gets a ``NAME_sign_out`` tool for the person calling.
    From here on this process gives no token to a call that names no person.
    """
    from multichat.runtime.user_signin import UserSignIn
    from multichat.runtime.user_signout import add_sign_out_tools

    signin = UserSignIn(config, public_url)
    signin.install(server)
    add_sign_out_tools(server, config, providers)
    server.add_middleware(PersonPerRequest())
    require_users()
    set_sign_in_link(signin.link)
    if audit.getEffectiveLevel() > logging.INFO:
        audit.setLevel(logging.INFO)
    return signin


def oidc_proxy(
    settings: OIDCSettings, public_url: str, workspace: Path, place: RedisPlace | None = None
) -> OIDCProxy:
    """FastMCP's OIDC proxy for the configured identity provider, at ``public_url``.

    It verifies the identity provider's ``id_token`` (a JWT, whatever the access token is),
    so every request carries the person's ``iss`` and ``sub``. Its state lives encrypted in
    :func:`proxy_dir` with a key made once (0600), so clients stay registered and signed in
    across restarts; with tokens in Redis (``place``), in Redis with the key all instances
    share (:mod:`~.shared_proxy`), so any instance serves a client signed in through another.

    Raises:
        UserError: no client secret (``MULTICHAT_OIDC_CLIENT_SECRET`` or ``client_secret``),
            or a ``MULTICHAT_PROXY_KEY`` too short.
        TokenStoreError: Redis does not answer (one line, its URL masked).
    """
    from cryptography.fernet import Fernet
    from fastmcp.server.auth.jwt_issuer import derive_jwt_key
    from fastmcp.server.auth.oidc_proxy import OIDCProxy
    from key_value.aio.stores.filetree import (
        FileTreeStore,
        FileTreeV1CollectionSanitizationStrategy,
        FileTreeV1KeySanitizationStrategy,
    )
    from key_value.aio.wrappers.encryption import FernetEncryptionWrapper

    from multichat.runtime.shared_proxy import redis_proxy_storage, shared_key

    secret = os.environ.get(OIDC_SECRET_ENV) or settings.client_secret
    if not secret:
        raise UserError(
            f"server.auth.oidc needs the client's secret: set {OIDC_SECRET_ENV} (or "
            "client_secret in provider-config.yaml)"
        )
    folder = proxy_dir(workspace)
    key = shared_key(place) or _proxy_key(folder)
    store: AsyncKeyValue
    if place is not None:
        store = redis_proxy_storage(place)
    else:
        store_dir = folder / "store"
        store_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        store = FileTreeStore(
            data_directory=store_dir,
            key_sanitization_strategy=FileTreeV1KeySanitizationStrategy(store_dir),
            collection_sanitization_strategy=FileTreeV1CollectionSanitizationStrategy(store_dir),
        )
    fernet = Fernet(derive_jwt_key(high_entropy_material=key, salt="multichat-proxy-storage"))
    return OIDCProxy(
        config_url=settings.discovery_url,
        client_id=settings.client_id,
        client_secret=secret,
        audience=settings.audience,
        verify_id_token=True,
        required_scopes=list(settings.scopes),
        base_url=public_url,
        redirect_path=OIDC_CALLBACK_PATH,
        # The MCP client's resource indicator names this server, which the identity provider
        # does not know (oidc-provider answers invalid_target); it only has to say who it is.
        forward_resource=False,
        jwt_signing_key=key,
        client_storage=FernetEncryptionWrapper(
            key_value=store, fernet=fernet, raise_on_decryption_error=False
        ),
    )


def _proxy_key(folder: Path) -> str:
    """The proxy's signing key: random, made once, kept in ``key`` (0600) like the HTTP token."""
    from multichat.runtime.http_token import kept_secret

    return kept_secret(folder / "key").token


def people_protection(
    host: str,
    workspace: WorkspaceConfig,
    public_url: str,
    allowed_hosts: tuple[str, ...] = (),
    allowed_origins: tuple[str, ...] = (),
) -> HttpProtection:
    """How a multi-user server is guarded: an identity per request, from the configured source.

    ``server.auth.oidc`` gives FastMCP's OIDC proxy; ``server.auth.jwt`` (a gateway that
    already hands out JWTs) works too, since its tokens carry ``iss`` and ``sub``. A static
    bearer token names nobody, so it cannot serve people. On loopback (behind a reverse proxy)
    the public URL's name is an accepted Host and Origin.

    Raises:
        UserError: neither is configured, or the OIDC client secret is missing.
        TokenStoreError: tokens are in Redis and it does not answer.
    """
    from multichat.runtime.http_security import HttpProtection, jwt_verifier
    from multichat.runtime.shared_proxy import shared_place

    auth_settings = workspace.server.auth
    verifiers: list[Any] = []
    methods: list[str] = []
    if auth_settings.oidc is not None:
        place = shared_place(workspace)
        verifiers.append(oidc_proxy(auth_settings.oidc, public_url, workspace.root, place))
        methods.append("OAuth through the OpenID Connect provider")
    if auth_settings.jwt is not None:
        verifiers.append(jwt_verifier(auth_settings.jwt))
        methods.append("JWT")
    if not verifiers:
        raise UserError(
            f"--multi-user needs to know who each person is: configure server.auth.oidc (an "
            f"OpenID Connect provider) or server.auth.jwt in {workspace.path}"
        )
    auth: AuthProvider
    if len(verifiers) == 1:
        auth = verifiers[0]
    else:
        from fastmcp.server.auth import MultiAuth

        auth = MultiAuth(server=verifiers[0], verifiers=verifiers[1:])
    parts = urlsplit(public_url)
    origin = f"{parts.scheme}://{parts.netloc}"
    return HttpProtection(
        host=host,
        auth=auth,
        methods=tuple(methods),
        allowed_hosts=(*allowed_hosts, parts.netloc),
        allowed_origins=(*allowed_origins, origin),
    )
