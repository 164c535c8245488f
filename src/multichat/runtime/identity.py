"""Who a token belongs to: the provider's who-am-I call (``auth.whoami``).

Every sign-in checks a new token with it before saving it, ``multichat auth --status`` asks
it whether the stored token still works (:func:`check_stored_token`), and a blank provider's
``whoami`` tool returns it. A platform that answers errors as HTTP 200 with
``{"ok": false, ...}`` (Slack) counts as refusing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import anyio

from multichat.errors import ConfigError, NotAuthenticated
from multichat.runtime.config import ProviderConfig, load_config
from multichat.runtime.credentials import Credentials
from multichat.runtime.platform_client import PlatformClient, PlatformError
from multichat.runtime.sign_in_needs import whoami_setting
from multichat.runtime.token_store import TokenStoreError, TokenStoreUnreachable


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


#: ``accepted``: the platform answered who-am-I. ``unchecked``: usable here, but the provider
#: has no who-am-I call. ``rejected``: the platform refused the token or its refresh.
#: ``missing``: no token, or an expired one with nothing to renew it. ``unreachable``: the
#: platform could not be asked (down, 5xx, a token endpoint that failed).
Verdict = Literal["accepted", "unchecked", "rejected", "missing", "unreachable"]


@dataclass(frozen=True)
class TokenCheck:
    """What the platform says of the stored token; ``problem`` never holds the token."""

    verdict: Verdict
    profile: Mapping[str, Any] = field(default_factory=dict)
    problem: str = ""
    #: The access token had expired and was renewed with the refresh token to check it.
    renewed: bool = False


def check_stored_token(provider: str) -> TokenCheck:
    """Ask the platform whether the token the next tool call would send works.

    It is the tool call's own path: the stored (or ``MULTICHAT_<NAME>_TOKEN``) token, renewed
    first through the single-flight refresh when it has expired, then who-am-I. Run it outside
    an event loop (a provider's refresh hook may start one).

    Raises:
        UnsendableToken: the token holds a character no header can carry.
        TokenStoreUnreachable: Redis did not answer: nothing is known of the token, and a
            sign-in would not help.
    """
    from multichat.runtime.oauth import OAuthFailed  # authlib: not loaded by serving alone
    from multichat.runtime.token_access import provider_auth

    auth = provider_auth(provider)
    refreshes = auth.refresh_count
    try:
        credentials = auth.get_credentials()
    except NotAuthenticated as exc:  # the refresh token was refused
        return TokenCheck("rejected", problem=str(exc))
    except TokenStoreUnreachable:
        raise
    except TokenStoreError as exc:  # a broken token file: signing in again replaces it
        return TokenCheck("missing", problem=str(auth.signed_out(str(exc))))
    except OAuthFailed as exc:
        return TokenCheck("unreachable", problem=str(exc).removeprefix(f"{provider}: "))
    if credentials is None:
        stored = auth.store().load()
        if stored is None:
            why = "no token yet"
        elif Credentials(stored).access_token:
            why = "the access token expired and there is no refresh token to renew it"
        else:
            why = f"{auth.store().location} holds no access_token"
        return TokenCheck("missing", problem=str(auth.signed_out(why)))
    renewed = auth.refresh_count > refreshes
    try:
        whoami_url(provider, load_config().provider(provider))
    except ConfigError:
        return TokenCheck("unchecked", renewed=renewed)
    try:
        profile = anyio.run(who_is, provider, credentials)
    except NotAuthenticated as exc:
        return TokenCheck("rejected", problem=str(exc), renewed=renewed)
    except PlatformError as exc:
        reason = str(exc).removeprefix(f"{provider}: ")
        return TokenCheck("unreachable", problem=reason, renewed=renewed)
    return TokenCheck("accepted", profile=profile, renewed=renewed)
