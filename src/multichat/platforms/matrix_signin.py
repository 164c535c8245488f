"""Signing in to a Matrix homeserver without a stored token: discovery, password, refresh.

These run before there is a token (or when it has expired), so they use a plain HTTP client of
their own rather than the provider's ``PlatformClient``, which always sends the stored token.

- Discovery: ``/.well-known/matrix/client`` of the user id's server name
  (https://spec.matrix.org/latest/client-server-api/#well-known-uri).
- Password: ``m.login.password`` with ``"refresh_token": true``
  (https://spec.matrix.org/latest/client-server-api/#post_matrixclientv3login).
- Refresh: ``POST /_matrix/client/v3/refresh``, whose refresh tokens are single-use
  (https://spec.matrix.org/latest/client-server-api/#post_matrixclientv3refresh).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any

import httpx2

from multichat.errors import MultichatError, NotAuthenticated, UserError
from multichat.platforms.matrix_events import server_name
from multichat.runtime.platform_client import parse_retry_after

LOGIN_PATH = "_matrix/client/v3/login"
REFRESH_PATH = "_matrix/client/v3/refresh"
VERSIONS_PATH = "_matrix/client/versions"
#: Rate-limited sign-ins are tried again this often, waiting at most MAX_WAIT seconds each.
ATTEMPTS = 3
MAX_WAIT = 30.0


class MatrixSignInFailed(MultichatError):
    """The homeserver could not be reached or answered a sign-in request with an error."""


async def discover_homeserver(
    user_id: str, *, transport: httpx2.AsyncBaseTransport | None = None, timeout: float = 15.0
) -> str:
    """The client-API base URL of the homeserver of ``@alice:example.org`` (or ``example.org``).

    Follows the spec's steps: ``https://<server name>/.well-known/matrix/client`` names
    ``m.homeserver.base_url``; without one (404 or no answer) the server name itself is tried;
    either way the URL must answer ``/_matrix/client/versions``.

    Raises:
        UserError: the well-known file is broken, or no homeserver answers there.
    """
    name = server_name(user_id) if user_id.startswith("@") else user_id
    if not name or any(char in name for char in "/?#@ "):
        raise UserError(f"{user_id!r} is not a Matrix user id such as @alice:example.org")
    async with httpx2.AsyncClient(timeout=timeout, transport=transport) as http:
        base = f"https://{name}"
        try:
            answer = await http.get(f"{base}/.well-known/matrix/client")
        except httpx2.TransportError:
            answer = None
        if answer is not None and answer.status_code != 404:
            base = _base_url_from_well_known(name, answer)
        try:
            versions = await http.get(f"{base}/{VERSIONS_PATH}")
            working = versions.status_code == 200 and "versions" in versions.json()
        except (httpx2.TransportError, ValueError):
            working = False
    if not working:
        raise UserError(
            f"no Matrix homeserver answers at {base} (found from {name}); "
            "give its base URL as `api_base_url` in provider-config.yaml"
        )
    return base


def _base_url_from_well_known(name: str, answer: httpx2.Response) -> str:
    where = f"https://{name}/.well-known/matrix/client"
    if answer.is_error:
        raise UserError(f"{where} answered HTTP {answer.status_code}")
    try:
        document = answer.json()
    except ValueError:
        raise UserError(f"{where} is not JSON") from None
    homeserver = document.get("m.homeserver") if isinstance(document, dict) else None
    base = homeserver.get("base_url") if isinstance(homeserver, dict) else None
    if not isinstance(base, str) or not base.startswith(("https://", "http://")):
        raise UserError(f"{where} names no m.homeserver.base_url")
    return base.rstrip("/")


async def password_login(
    provider: str,
    base_url: str,
    username: str,
    password: str,
    *,
    timeout: float = 15.0,
    transport: httpx2.AsyncBaseTransport | None = None,
) -> dict[str, Any]:
    """Sign in with a user name and password; the token response the token store keeps.

    Returns ``access_token``, ``token_type``, ``user_id``, ``device_id`` and, where the
    homeserver issues refreshable tokens, ``refresh_token`` and ``expires_at`` (Unix seconds).

    Raises:
        UserError: the homeserver refused the name or password, or offers no password sign-in.
        MatrixSignInFailed: it could not be reached or answered with another error.
    """
    body = {
        "type": "m.login.password",
        "identifier": {"type": "m.id.user", "user": username},
        "password": password,
        "refresh_token": True,
        "initial_device_display_name": f"multichat ({provider})",
    }
    status, answer = await _post(provider, base_url, LOGIN_PATH, body, timeout, transport)
    if status in (401, 403):
        raise UserError(
            f"{provider}: the homeserver refused the user name or password "
            f"({_matrix_error(answer)})"
        )
    if status == 400:
        # M_UNKNOWN "Unknown login type": homeservers that sign in through their own page
        # (next-generation auth, SSO only) take no password.
        raise UserError(
            f"{provider}: the homeserver refused a password sign-in ({_matrix_error(answer)}); "
            "if it signs in through its own web page, set `auth.mode: token` and paste an "
            "access token"
        )
    _raise_for(provider, "sign in", status, answer)
    return _token_response(answer, {})


async def refresh_tokens(
    provider: str,
    base_url: str,
    credentials: Mapping[str, Any],
    *,
    timeout: float = 15.0,
    transport: httpx2.AsyncBaseTransport | None = None,
) -> dict[str, Any]:
    """Trade ``credentials``' refresh token for new tokens; ``user_id``/``device_id`` are kept.

    A refresh token works once (Synapse keeps the old one until the new tokens are used).

    Raises:
        NotAuthenticated: no refresh token, or the homeserver refused it (run multichat auth).
        MatrixSignInFailed: it could not be reached or answered with another error.
    """
    refresh_token = credentials.get("refresh_token")
    if not refresh_token:
        raise NotAuthenticated(provider, "the access token expired and there is no refresh token")
    body = {"refresh_token": str(refresh_token)}
    status, answer = await _post(provider, base_url, REFRESH_PATH, body, timeout, transport)
    if status in (401, 403):
        from multichat.runtime.oauth import RefreshRejected

        raise RefreshRejected(provider)
    _raise_for(provider, "refresh the token", status, answer)
    return _token_response(answer, credentials)


def _token_response(answer: Mapping[str, Any], previous: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(answer.get("access_token"), str):
        raise MatrixSignInFailed("the homeserver's answer held no access_token")
    token: dict[str, Any] = {"access_token": answer["access_token"], "token_type": "Bearer"}
    # No new refresh token means the old one stays valid (the spec's /refresh answer).
    refresh_token = answer.get("refresh_token") or previous.get("refresh_token")
    if refresh_token:
        token["refresh_token"] = refresh_token
    lifetime = answer.get("expires_in_ms")
    if isinstance(lifetime, int | float):
        token["expires_at"] = time.time() + lifetime / 1000
    for key in ("user_id", "device_id"):
        value = answer.get(key) or previous.get(key)
        if value:
            token[key] = value
    return token


async def _post(
    provider: str,
    base_url: str,
    path: str,
    body: Mapping[str, Any],
    timeout: float,
    transport: httpx2.AsyncBaseTransport | None,
) -> tuple[int, dict[str, Any]]:
    """POST without a token; a 429 waits what the homeserver asks (capped) and tries again."""
    url = f"{base_url.rstrip('/')}/{path}"
    async with httpx2.AsyncClient(timeout=timeout, transport=transport) as http:
        for attempt in range(ATTEMPTS):
            try:
                response = await http.post(url, json=dict(body))
            except httpx2.TransportError as exc:
                raise MatrixSignInFailed(
                    f"{provider}: could not reach the homeserver at {base_url} "
                    f"({type(exc).__name__})"
                ) from None
            answer = _json(response)
            if response.status_code != 429 or attempt == ATTEMPTS - 1:
                return response.status_code, answer
            wait = parse_retry_after(response.headers.get("Retry-After"))
            if wait is None and isinstance(answer.get("retry_after_ms"), int):
                wait = answer["retry_after_ms"] / 1000
            await asyncio.sleep(min(wait or 1.0, MAX_WAIT))
    raise AssertionError("unreachable")  # pragma: no cover


def _json(response: httpx2.Response) -> dict[str, Any]:
    try:
        answer = response.json()
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}


def _raise_for(provider: str, action: str, status: int, answer: Mapping[str, Any]) -> None:
    if status >= 400:
        raise MatrixSignInFailed(
            f"{provider}: could not {action}: the homeserver answered HTTP {status} "
            f"({_matrix_error(answer)})"
        )


def _matrix_error(answer: Mapping[str, Any]) -> str:
    """``M_FORBIDDEN: Invalid password`` from a Matrix error body."""
    code = str(answer.get("errcode") or "error")
    message = str(answer.get("error") or "").strip()
    return f"{code}: {message}"[:300] if message else code
