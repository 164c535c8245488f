"""The OAuth 2.0 authorization-code flow (state + PKCE S256), refresh and revocation, on authlib.

Endpoints come from the provider's ``oauth:`` block, the client id and secret from the
environment (``MULTICHAT_<NAME>_CLIENT_ID``/``_SECRET``, which win) or ``credentials.json``
(flat, or Google's ``installed``/``web`` shape). The redirect URI is always the provider's
configured ``callback_url``: no caller can choose where the code goes.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx2
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.httpx_client import AsyncOAuth2Client, OAuth2Client

from multichat.contract import env_name
from multichat.errors import ConfigError, MultichatError, NotAuthenticated
from multichat.runtime.client_file import BadClientFile, read_client_file
from multichat.runtime.config import OAuthSettings, WorkspaceConfig
from multichat.runtime.sign_in_needs import (
    METADATA_NAMES,
    can_discover,
    endpoint_unset,
    unset_endpoints,
)

STATE_TTL_SECONDS = 600.0
#: Answers to a refresh that mean "sign in again": OAuth's invalid_grant, and Slack's own
#: (https://docs.slack.dev/authentication/using-token-rotation), answered as HTTP 200.
REFRESH_REFUSALS = frozenset(
    {"invalid_grant", "invalid_refresh_token", "token_revoked", "token_expired"}
)
#: At most this many sign-ins may be pending at once; the oldest is dropped beyond it, so
#: hammering /auth cannot grow memory without bound.
MAX_PENDING_STATES = 64
HTTP_TIMEOUT = 20.0


class OAuthFailed(MultichatError):
    """The platform refused or could not be reached; the message says which and what to do."""


class RevocationNotDone(OAuthFailed):
    """The revocation endpoint could not be reached or failed: the token is still live there.

    ``reason`` is the message without the provider's name, for callers that compose their own.
    """

    def __init__(self, provider: str, reason: str) -> None:
        """Keep the reason apart from the provider's name."""
        self.reason = reason
        super().__init__(f"{provider}: {reason}")


class InvalidState(MultichatError):
    """A callback whose ``state`` is missing, unknown, reused or expired (a forged request)."""


class RefreshRejected(NotAuthenticated):
    """The platform rejected the refresh token (``invalid_grant``): sign in again."""

    def __init__(self, provider: str) -> None:
        """Name the command that fixes it."""
        super().__init__(provider, "the platform rejected the refresh token")


@dataclass(frozen=True)
class ClientCredentials:
    """The OAuth client's id and (for confidential clients) secret; the secret never prints."""

    client_id: str
    client_secret: str | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        """Show the id and whether there is a secret, never the secret."""
        secret = "***" if self.client_secret else None
        return f"ClientCredentials(client_id={self.client_id!r}, client_secret={secret})"


@dataclass(frozen=True)
class OAuthSettingsResolved:
    """Everything the flow needs, checked: endpoints, redirect URI, scope, client."""

    provider: str
    authorize_url: str
    token_url: str
    redirect_uri: str
    scope: str
    pkce: bool
    auth_method: str
    extra_authorize_params: dict[str, str]
    revoke_url: str | None
    userinfo_url: str | None
    client: ClientCredentials
    device_authorization_url: str | None = None
    scope_param: str = "scope"
    token_key: str | None = None


def load_client_credentials(config: WorkspaceConfig, provider: str) -> ClientCredentials:
    """Client id and secret: the environment, the credentials file, then ``oauth.client_id``.

    Raises:
        BadClientFile: the credentials file is there but broken (:mod:`.client_file`).
        ConfigError: no client id anywhere.
    """
    id_name, secret_name = env_name(provider, "CLIENT_ID"), env_name(provider, "CLIENT_SECRET")
    client_id = os.environ.get(id_name)
    client_secret = os.environ.get(secret_name)
    path = config.credentials_path(provider)
    held = read_client_file(path) if not client_id else None
    if held is not None:
        client_id = held.client_id
        client_secret = client_secret or held.client_secret
    if not client_id:
        oauth = config.provider(provider).oauth
        client_id = oauth.client_id if oauth is not None else None
    if not client_id and held is not None:
        raise BadClientFile(
            f"{path} has no client_id: add it (and client_secret), or set {id_name}"
        )
    if not client_id:
        raise ConfigError(
            f"no OAuth client id for {provider}: put client_id (and client_secret) in {path}, "
            f"or set {id_name} (and {secret_name})"
        )
    return ClientCredentials(client_id, str(client_secret) if client_secret else None)


def resolve_settings(
    config: WorkspaceConfig, provider: str, *, need_authorize: bool = True
) -> OAuthSettingsResolved:
    """Check the provider's ``oauth:`` block and client; a missing piece is a one-line error.

    Endpoints left out are discovered from ``oauth.issuer`` or ``oauth.metadata_url``
    (:mod:`.discovery`), as are those the provider's ``auth.mode`` calls. ``need_authorize`` is
    False for grants without a browser (device, refresh), which need no authorization endpoint.
    """
    settings = config.provider(provider)
    oauth = settings.oauth or OAuthSettings()
    grant = "oauth" if need_authorize else "refresh"
    configured: dict[str, str | None] = {key: getattr(oauth, key) for key in METADATA_NAMES}
    found: dict[str, Any] = {}
    if can_discover(oauth) and (
        unset_endpoints(grant, configured) or unset_endpoints(settings.auth.mode, configured)
    ):
        from multichat.runtime.discovery import discover

        found = discover(provider, oauth.issuer, oauth.metadata_url)
    endpoints = {
        key: configured[key] or found.get(name) or None for key, name in METADATA_NAMES.items()
    }
    for key in unset_endpoints(grant, endpoints):
        raise endpoint_unset(provider, key, config.path)
    port = settings.port or 8000
    redirect_uri = settings.callback_url or f"http://127.0.0.1:{port}/auth/callback"
    try:
        client = load_client_credentials(config, provider)
    except ConfigError:
        if not (oauth.dynamic_registration and found.get("registration_endpoint")):
            raise
        from multichat.runtime.client_registration import register_client

        client = ClientCredentials(
            register_client(
                provider,
                str(found["registration_endpoint"]),
                redirect_uri=redirect_uri,
                client_name=f"multichat ({settings.name or provider})",
                scope=oauth.scope_separator.join(settings.scopes),
                credentials_path=config.credentials_path(provider),
            )
        )
    return OAuthSettingsResolved(
        provider=provider,
        authorize_url=endpoints["authorize_url"] or "",
        token_url=endpoints["token_url"] or "",
        redirect_uri=redirect_uri,
        scope=oauth.scope_separator.join(settings.scopes),
        pkce=oauth.pkce,
        auth_method=oauth.token_endpoint_auth_method,
        extra_authorize_params=dict(oauth.extra_authorize_params),
        revoke_url=oauth.revoke_url or found.get("revocation_endpoint") or None,
        userinfo_url=oauth.userinfo_url or found.get("userinfo_endpoint") or None,
        client=client,
        device_authorization_url=endpoints["device_authorization_url"],
        scope_param=oauth.scope_param,
        token_key=oauth.token_key,
    )


def _client_options(settings: OAuthSettingsResolved) -> dict[str, Any]:
    secret = settings.client.client_secret
    method = settings.auth_method if secret else "none"
    options: dict[str, Any] = {
        "client_id": settings.client.client_id,
        "client_secret": secret,
        "token_endpoint_auth_method": method,
        "redirect_uri": settings.redirect_uri,
        "timeout": HTTP_TIMEOUT,
    }
    if settings.scope and settings.scope_param == "scope":
        options["scope"] = settings.scope
    if settings.pkce:
        options["code_challenge_method"] = "S256"
    return options


def checked_token(provider: str, token: Any) -> dict[str, Any]:
    """A token response that really holds an access token (some servers answer errors as 200s)."""
    if isinstance(token, dict) and not token.get("access_token") and token.get("error"):
        reason = str(token["error"])
        if token.get("error_description"):
            reason += f": {token['error_description']}"
        raise OAuthFailed(f"{provider}: the platform refused ({reason})")
    if not isinstance(token, dict) or not token.get("access_token"):
        keys = ", ".join(sorted(token)) if isinstance(token, dict) else type(token).__name__
        raise OAuthFailed(
            f"{provider}: the token endpoint answered without an access_token (got: {keys})"
        )
    return dict(token)


def _oauth_failure(provider: str, exc: Exception, action: str) -> OAuthFailed:
    if isinstance(exc, OAuthError):
        detail = f"{exc.error}" + (f": {exc.description}" if exc.description else "")
        return OAuthFailed(f"{provider}: the platform refused to {action} ({detail})")
    if isinstance(exc, httpx2.HTTPStatusError):
        return OAuthFailed(
            f"{provider}: the token endpoint answered HTTP {exc.response.status_code} "
            f"when asked to {action}"
        )
    if isinstance(exc, httpx2.HTTPError):
        return OAuthFailed(
            f"{provider}: could not reach the token endpoint to {action} ({type(exc).__name__})"
        )
    return OAuthFailed(f"{provider}: could not {action}: {exc}")


@dataclass
class _Pending:
    verifier: str
    created: float


class PendingStates:
    """``state`` values issued by ``/auth``: random, single use, valid for ten minutes."""

    def __init__(self, ttl: float = STATE_TTL_SECONDS) -> None:
        """Start with none issued."""
        self._ttl = ttl
        self._pending: dict[str, _Pending] = {}
        self._lock = threading.Lock()

    def issue(self) -> tuple[str, str]:
        """A new ``(state, code_verifier)`` pair."""
        state = secrets.token_urlsafe(32)
        verifier = secrets.token_urlsafe(64)
        with self._lock:
            self._drop_expired()
            while len(self._pending) >= MAX_PENDING_STATES:
                del self._pending[next(iter(self._pending))]
            self._pending[state] = _Pending(verifier, time.monotonic())
        return state, verifier

    def take(self, state: str | None) -> str:
        """The code verifier of ``state``, which is used up; :class:`InvalidState` otherwise."""
        if not state:
            raise InvalidState("the callback has no state parameter")
        with self._lock:
            pending = self._pending.pop(state, None)
        if pending is None:
            raise InvalidState(
                "unknown or already used state: start again from /auth (this tab may be stale)"
            )
        if time.monotonic() - pending.created > self._ttl:
            raise InvalidState("the sign-in took longer than 10 minutes: start again from /auth")
        return pending.verifier

    def _drop_expired(self) -> None:
        now = time.monotonic()
        for state in [s for s, p in self._pending.items() if now - p.created > self._ttl]:
            del self._pending[state]


class AuthorizationFlow:
    """One provider's authorization-code flow: build the authorize URL, exchange the code."""

    def __init__(
        self, config: WorkspaceConfig, provider: str, redirect_uri: str | None = None
    ) -> None:
        """Check the settings now, so that a misconfiguration fails before any browser opens.

        ``redirect_uri`` replaces the configured ``callback_url``: the multi-user server's own
        callback under its public URL. It is fixed here, never taken from a request.
        """
        self.provider = provider
        settings = resolve_settings(config, provider)
        if redirect_uri is not None:
            settings = dataclasses.replace(settings, redirect_uri=redirect_uri)
        self.settings = settings
        self.states = PendingStates()

    def authorization_url(self) -> str:
        """The platform's authorize URL with a fresh state and, with PKCE, an S256 challenge."""
        state, verifier = self.states.issue()
        client = OAuth2Client(**_client_options(self.settings))
        try:
            scopes = (
                {self.settings.scope_param: self.settings.scope}
                if self.settings.scope and self.settings.scope_param != "scope"
                else {}
            )
            url, _ = client.create_authorization_url(
                self.settings.authorize_url,
                state=state,
                code_verifier=verifier if self.settings.pkce else None,
                **{**scopes, **self.settings.extra_authorize_params},
            )
        finally:
            client.close()
        return str(url)

    async def exchange(self, code: str, verifier: str) -> dict[str, Any]:
        """Trade the authorization code for a token response."""
        options: dict[str, Any] = {"code": code}
        if self.settings.pkce:
            options["code_verifier"] = verifier
        async with AsyncOAuth2Client(**_client_options(self.settings)) as client:
            try:
                token = await client.fetch_token(self.settings.token_url, **options)
            except (OAuthError, httpx2.HTTPError, ValueError) as exc:
                raise _oauth_failure(self.provider, exc, "exchange the code") from None
        return checked_token(self.provider, _user_token(self.settings, token))


def refresh(settings: OAuthSettingsResolved, refresh_token: str) -> dict[str, Any]:
    """Use the refresh-token grant; keep the old refresh token when the platform sends none."""
    with OAuth2Client(**_client_options(settings)) as client:
        try:
            token = client.refresh_token(settings.token_url, refresh_token=refresh_token)
        except OAuthError as exc:
            if exc.error in REFRESH_REFUSALS:
                raise RefreshRejected(settings.provider) from None
            raise _oauth_failure(settings.provider, exc, "refresh the token") from None
        except (httpx2.HTTPError, ValueError) as exc:
            raise _oauth_failure(settings.provider, exc, "refresh the token") from None
    token = _user_token(settings, token)
    if isinstance(token, dict) and not token.get("access_token") and token.get("error"):
        # An error answered as a 200 (Slack's invalid_refresh_token): the refresh is refused.
        raise RefreshRejected(settings.provider)
    fresh = checked_token(settings.provider, token)
    if not fresh.get("refresh_token"):
        fresh["refresh_token"] = refresh_token
    return fresh


def _user_token(settings: OAuthSettingsResolved, token: Any) -> Any:
    """The token from ``oauth.token_key`` when the response nests it (Slack's ``authed_user``).

    The rest of the response is kept beside it.
    """
    if not settings.token_key or not isinstance(token, dict):
        return token
    nested = token.get(settings.token_key)
    if not isinstance(nested, dict) or not nested.get("access_token"):
        return token
    outer = {key: value for key, value in token.items() if key != settings.token_key}
    return {**outer, **nested}


def revoke(settings: OAuthSettingsResolved, token: str, hint: str) -> None:
    """Revoke ``token`` at the platform's revocation endpoint (RFC 7009).

    Raises:
        RevocationNotDone: the endpoint could not be reached or answered 5xx (RFC 7009 2.2.1:
            the client must then assume the token still exists).
        OAuthFailed: the endpoint answered 4xx: it refused (an invalid token gets a 200).
    """
    if not settings.revoke_url:
        return
    with OAuth2Client(**_client_options(settings)) as client:
        try:
            response = client.revoke_token(settings.revoke_url, token=token, token_type_hint=hint)  # type: ignore[no-untyped-call]
        except httpx2.HTTPError as exc:
            raise RevocationNotDone(
                settings.provider,
                f"could not reach the revocation endpoint ({type(exc).__name__})",
            ) from None
    if response.status_code >= 500:
        raise RevocationNotDone(
            settings.provider, f"the revocation endpoint answered HTTP {response.status_code}"
        )
    if response.status_code >= 400:
        raise OAuthFailed(
            f"{settings.provider}: the revocation endpoint answered HTTP {response.status_code}"
        )
