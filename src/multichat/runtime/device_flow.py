"""The OAuth 2.0 device authorization grant (RFC 8628), for machines without a browser.

The user is shown a verification URL and a short user code to type on another device; this
side polls the token endpoint at the server's ``interval`` until the user allows or denies,
or the code expires. ``authorization_pending`` keeps polling, ``slow_down`` adds five seconds
to the interval (section 3.5), ``expired_token`` and ``access_denied`` end with one line. The
device code is a secret: it is never printed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx2

from multichat.runtime.config import WorkspaceConfig
from multichat.runtime.oauth import (
    HTTP_TIMEOUT,
    OAuthFailed,
    OAuthSettingsResolved,
    checked_token,
    resolve_settings,
)
from multichat.runtime.sign_in_needs import endpoint_unset, unset_endpoints

DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
#: RFC 8628 section 3.2: "If no value is provided, clients MUST use 5 as the default."
DEFAULT_INTERVAL = 5.0
#: Section 3.5: after ``slow_down`` the interval grows by this many seconds.
SLOW_DOWN_STEP = 5.0


class DeviceCodeExpired(OAuthFailed):
    """Nobody entered the user code before it expired."""


@dataclass(frozen=True)
class DeviceCode:
    """What the user needs (URL and user code) and what the poll needs (the device code)."""

    verification_uri: str
    user_code: str
    expires_in: float
    interval: float
    verification_uri_complete: str | None = None
    device_code: str = field(default="", repr=False)


def _client_form(settings: OAuthSettingsResolved) -> tuple[dict[str, str], Any]:
    """The client's id in the form, or HTTP Basic for a confidential client."""
    client = settings.client
    if client.client_secret and settings.auth_method == "client_secret_basic":
        return {}, (client.client_id, client.client_secret)
    form = {"client_id": client.client_id}
    if client.client_secret:
        form["client_secret"] = client.client_secret
    return form, None


def _answer(provider: str, response: httpx2.Response, action: str) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        raise OAuthFailed(
            f"{provider}: the server answered HTTP {response.status_code} without JSON when "
            f"asked to {action}"
        ) from None
    if not isinstance(body, dict):
        raise OAuthFailed(f"{provider}: the server's answer to {action} is not a JSON object")
    return body


def request_device_code(settings: OAuthSettingsResolved, http: httpx2.Client) -> DeviceCode:
    """Ask the device authorization endpoint for a device code and a user code."""
    provider = settings.provider
    if not settings.device_authorization_url:
        raise endpoint_unset(provider, "device_authorization_url")
    form, basic = _client_form(settings)
    if settings.scope:
        form["scope"] = settings.scope
    try:
        response = http.post(settings.device_authorization_url, data=form, auth=basic)
    except httpx2.HTTPError as exc:
        raise OAuthFailed(
            f"{provider}: could not reach the device authorization endpoint ({type(exc).__name__})"
        ) from None
    body = _answer(provider, response, "start a device sign-in")
    if response.is_error or "device_code" not in body:
        raise OAuthFailed(f"{provider}: the server refused the device sign-in ({_reason(body)})")
    return DeviceCode(
        verification_uri=str(body.get("verification_uri") or body.get("verification_url", "")),
        user_code=str(body["user_code"]),
        expires_in=float(body.get("expires_in", 600)),
        interval=float(body.get("interval", DEFAULT_INTERVAL)),
        verification_uri_complete=body.get("verification_uri_complete"),
        device_code=str(body["device_code"]),
    )


def _reason(body: dict[str, Any]) -> str:
    error = str(body.get("error") or "no error code")
    description = body.get("error_description")
    return f"{error}: {description}" if description else error


def poll_for_token(
    settings: OAuthSettingsResolved,
    code: DeviceCode,
    http: httpx2.Client,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> dict[str, Any]:
    """Poll the token endpoint until the user decides or the code expires; the token.

    Raises:
        DeviceCodeExpired: the code expired first.
        OAuthFailed: the user denied access, or the server refused otherwise.
    """
    provider = settings.provider
    deadline = clock() + code.expires_in
    interval = max(code.interval, 1.0)
    form, basic = _client_form(settings)
    form.update(grant_type=DEVICE_CODE_GRANT, device_code=code.device_code)
    while True:
        if clock() + interval > deadline:
            raise DeviceCodeExpired(
                f"{provider}: the code {code.user_code} expired before anyone entered it; "
                f"run `multichat auth {provider}` again"
            )
        sleep(interval)
        try:
            response = http.post(settings.token_url, data=form, auth=basic)
        except httpx2.HTTPError as exc:
            raise OAuthFailed(
                f"{provider}: could not reach the token endpoint ({type(exc).__name__})"
            ) from None
        body = _answer(provider, response, "finish the device sign-in")
        error = body.get("error")
        if error == "authorization_pending":
            continue
        if error == "slow_down":
            interval += SLOW_DOWN_STEP
            continue
        if error == "expired_token":
            raise DeviceCodeExpired(
                f"{provider}: the code {code.user_code} expired; run `multichat auth {provider}` "
                "again"
            )
        if error == "access_denied":
            raise OAuthFailed(f"{provider}: access was denied on the verification page")
        if error or response.is_error:
            raise OAuthFailed(
                f"{provider}: the server refused the device sign-in ({_reason(body)})"
            )
        return checked_token(provider, body)


def device_sign_in(
    config: WorkspaceConfig,
    provider: str,
    *,
    show: Callable[[DeviceCode], None],
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Run the whole device flow: ``show`` tells the user where to go; returns the token."""
    settings = resolve_settings(config, provider, need_authorize=False)
    endpoints = {
        "device_authorization_url": settings.device_authorization_url,
        "token_url": settings.token_url,
    }
    for key in unset_endpoints("device", endpoints):
        raise endpoint_unset(provider, key, config.path)
    with httpx2.Client(timeout=HTTP_TIMEOUT, headers={"Accept": "application/json"}) as http:
        code = request_device_code(settings, http)
        show(code)
        return poll_for_token(settings, code, http, sleep=sleep)
