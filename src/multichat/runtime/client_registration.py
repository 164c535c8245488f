"""OAuth dynamic client registration (RFC 7591), for servers that hand out clients themselves.

Matrix homeservers on next-generation auth (MSC3861) have no client to create by hand: the
sign-in registers one at the ``registration_endpoint`` their metadata names, as a native public
client (PKCE, loopback redirect), and keeps its id in the provider's credentials file (mode
0600) for later sign-ins and refreshes. ``oauth.dynamic_registration: true`` turns it on.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx2

from multichat.atomic_file import write_atomically
from multichat.errors import MultichatError

TIMEOUT = 15.0


class RegistrationFailed(MultichatError):
    """The authorization server refused to register the client, or could not be reached."""


def register_client(
    provider: str,
    endpoint: str,
    *,
    redirect_uri: str,
    client_name: str,
    scope: str,
    credentials_path: Path,
) -> str:
    """Register a native public client; save and return its ``client_id``.

    Raises:
        RegistrationFailed: the server refused (its ``error`` and description are given).
    """
    metadata: dict[str, Any] = {
        "client_name": client_name,
        "client_uri": "https://github.com/multichat/multichat",
        "redirect_uris": [redirect_uri],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
        "application_type": "native",
    }
    if scope:
        metadata["scope"] = scope
    try:
        response = httpx2.post(endpoint, json=metadata, timeout=TIMEOUT)
    except httpx2.HTTPError as exc:
        raise RegistrationFailed(
            f"{provider}: could not reach the registration endpoint ({type(exc).__name__})"
        ) from None
    try:
        answer = response.json()
    except ValueError:
        answer = {}
    if response.is_error or not isinstance(answer, dict) or not answer.get("client_id"):
        reason = (
            answer.get("error_description") or answer.get("error")
            if isinstance(answer, dict)
            else None
        )
        raise RegistrationFailed(
            f"{provider}: the server refused to register multichat as a client "
            f"(HTTP {response.status_code}{': ' + str(reason) if reason else ''})"
        )
    client_id = str(answer["client_id"])
    credentials_path.parent.mkdir(parents=True, exist_ok=True)
    saved = {"client_id": client_id, "registered_at": endpoint}
    write_atomically(credentials_path, json.dumps(saved, indent=2).encode(), 0o600)
    return client_id
