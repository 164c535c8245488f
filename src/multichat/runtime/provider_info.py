"""What a provider is and whether it is signed in: the body of every ``provider_info`` tool."""

from __future__ import annotations

from typing import Any

from multichat.runtime.config import load_config
from multichat.runtime.token_access import provider_auth


def describe_provider(provider: str) -> dict[str, Any]:
    """The provider's settings and sign-in state, never a token or a secret."""
    config = load_config().provider(provider)
    oauth = config.oauth
    status = provider_auth(provider).status()
    return {
        "provider": provider,
        "name": config.name,
        "description": config.description,
        "sign_in_mode": config.auth.mode,
        "scopes": config.scopes,
        "api_base_url": config.api_base_url or None,
        "oauth_configured": bool(oauth and oauth.authorize_url and oauth.token_url),
        "read_only": config.read_only,
        # An expired token that a refresh token renews serves the next call all the same.
        "authenticated": status["authenticated"] or bool(status.get("refreshable")),
        "token_expires_at": status["expires_at"],
        "sign_in_command": f"multichat auth {provider}",
    }
