"""Who a token belongs to: the provider's who-am-I call (``auth.whoami``).

Every sign-in checks a new token with it before saving it, ``multichat auth --status`` shows
its answer, and a blank provider's ``whoami`` tool returns it. A platform that answers errors
as HTTP 200 with ``{"ok": false, ...}`` (Slack) counts as refusing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from multichat.errors import ConfigError
from multichat.runtime.config import ProviderConfig, load_config
from multichat.runtime.platform_client import PlatformClient
from multichat.runtime.sign_in_needs import whoami_setting


def whoami_url(provider: str, settings: ProviderConfig) -> str:
    """The who-am-I call: ``auth.whoami``, else the older ``oauth.userinfo_url``.

    Raises:
        ConfigError: neither is set.
    """
    url = whoami_setting(settings)
    if not url:
        raise ConfigError(
            f"set `auth.whoami` for {provider} in provider-config.yaml: the platform's "
            "who-am-I call (a path under api_base_url, or a URL)"
        )
    return url


async def who_is(provider: str, credentials: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The platform's answer for ``credentials`` (by default the stored, refreshed token).

    Raises:
        NotAuthenticated: no token, or the platform refused it (its reason included).
        PlatformError: the platform could not be asked, or answered another error.
    """
    settings = load_config().provider(provider)
    if credentials is None:
        from multichat.runtime.token_access import provider_auth

        credentials = await provider_auth(provider).arequire_credentials()
    url = whoami_url(provider, settings)
    async with PlatformClient(
        provider,
        settings.api_base_url or url,
        credentials=credentials,
        scheme=settings.auth.scheme,
        timeout=settings.http_timeout,
    ) as client:
        answer = await client.get(url)
    if isinstance(answer, dict) and answer.get("ok") is False:
        reason = str(answer.get("error") or "refused")
        from multichat.runtime.token_access import provider_auth

        raise provider_auth(provider).signed_out(f"the platform refused the token: {reason}")
    if not isinstance(answer, dict):
        return {"profile": answer}
    return answer
