"""What each sign-in mode needs before it can start: one rule for the runtime and ``doctor``.

``oauth`` calls the authorize and token endpoints, ``device`` the device authorization and token
endpoints (``oauth.issuer`` or ``oauth.metadata_url`` may supply them by discovery); ``token``,
``password`` and ``device`` check each new token with the who-am-I call before saving it; and
``password`` calls two hooks of the provider's ``api/auth.py``. The runtime raises on the first
missing piece when it reaches it; ``multichat doctor`` lists them all with :func:`unmet_needs`,
without calling the network.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from multichat.contract import AUTH_MODULE
from multichat.docs_pages import docs_page
from multichat.errors import ConfigError
from multichat.runtime.config import OAuthSettings, ProviderConfig, WorkspaceConfig

#: The ``oauth:`` endpoints each grant calls: the browser's, the device's, and a refresh.
ENDPOINTS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "oauth": ("authorize_url", "token_url"),
        "device": ("device_authorization_url", "token_url"),
        "refresh": ("token_url",),
    }
)
#: Each endpoint's name in the server's metadata (RFC 8414 section 2, RFC 8628 section 4).
METADATA_NAMES: Mapping[str, str] = MappingProxyType(
    {
        "authorize_url": "authorization_endpoint",
        "token_url": "token_endpoint",
        "device_authorization_url": "device_authorization_endpoint",
    }
)
#: The modes whose new token must pass the who-am-I call before it is saved
#: (:func:`multichat.runtime.sign_in.accept`); ``oauth`` uses it only where one is set.
CHECKED_BY_WHOAMI = frozenset({"token", "password", "device"})


@dataclass(frozen=True)
class Hook:
    """A function the provider's ``api/auth.py`` defines for a sign-in mode."""

    name: str
    #: How it is called, as docs/provider-guide.md shows it.
    call: str


EXCHANGE_PASSWORD = Hook("exchange_password", "exchange_password(username, password)")
REFRESH_CREDENTIALS = Hook("refresh_credentials", "refresh_credentials(credentials)")
#: The hooks each mode calls (docs/provider-guide.md, "Hooks for password sign-in").
HOOKS: Mapping[str, tuple[Hook, ...]] = MappingProxyType(
    {"password": (EXCHANGE_PASSWORD, REFRESH_CREDENTIALS)}
)


@dataclass(frozen=True)
class UnmetNeed:
    """Pieces of one kind a provider's sign-in mode lacks, and where to add them."""

    what: str
    fix: str


def unset_endpoints(grant: str, endpoints: Mapping[str, str | None]) -> list[str]:
    """The endpoints ``grant`` calls that ``endpoints`` (configured or discovered) lacks."""
    return [key for key in ENDPOINTS.get(grant, ()) if not endpoints.get(key)]


def endpoint_unset(provider: str, key: str, config_path: Path | None = None) -> ConfigError:
    """The one-line error for an ``oauth.KEY`` endpoint that is needed and not set."""
    where = f"{config_path}: " if config_path is not None else ""
    return ConfigError(
        f"{where}`providers.{provider}.oauth.{key}` is not set; copy it from the platform's "
        "OAuth documentation, or set `oauth.issuer` to discover it"
    )


def can_discover(oauth: OAuthSettings | None) -> bool:
    """Whether the endpoints may come from the server's metadata (``issuer``/``metadata_url``)."""
    return oauth is not None and bool(oauth.issuer or oauth.metadata_url)


def whoami_setting(settings: ProviderConfig) -> str | None:
    """The who-am-I call: ``auth.whoami``, else the older ``oauth.userinfo_url``; or ``None``."""
    return settings.auth.whoami or (settings.oauth.userinfo_url if settings.oauth else None)


def unmet_needs(config: WorkspaceConfig, provider: str) -> list[UnmetNeed]:
    """What the provider's ``auth.mode`` needs and lacks: endpoints, who-am-I call, hooks.

    Endpoints count as there when they can be discovered (discovery is not attempted). Hooks
    are looked up as the runtime looks them up, so ``api/auth.py`` is imported.

    Raises:
        ProviderLoadError: ``api/auth.py`` does not import (only for a mode that has hooks).
    """
    settings = config.provider(provider)
    mode = settings.auth.mode
    needs: list[UnmetNeed] = []
    oauth = settings.oauth
    configured = {key: getattr(oauth, key, None) for key in METADATA_NAMES}
    unset = [] if can_discover(oauth) else unset_endpoints(mode, configured)
    if unset:
        keys = _and([f"`oauth.{key}`" for key in unset])
        them = "them" if len(unset) > 1 else "it"
        needs.append(
            UnmetNeed(
                keys,
                f"set {keys} under `providers.{provider}` in {config.path} (or `oauth.issuer` "
                f"to discover {them})",
            )
        )
    if mode in CHECKED_BY_WHOAMI and not whoami_setting(settings):
        needs.append(
            UnmetNeed(
                "`auth.whoami` (the who-am-I call that checks a new token)",
                f"set `auth.whoami` under `providers.{provider}` in {config.path} (a path under "
                "api_base_url, or a URL)",
            )
        )
    hooks = HOOKS.get(mode, ())
    if hooks:
        from multichat.runtime.sign_in import provider_hook

        absent = [hook for hook in hooks if provider_hook(config, provider, hook.name) is None]
        if absent:
            module = config.provider_dir(provider) / AUTH_MODULE
            needs.append(
                UnmetNeed(
                    f"{_and([hook.call for hook in absent])} in {AUTH_MODULE}",
                    f"define {'it' if len(absent) == 1 else 'them'} in {module} as "
                    f'{docs_page("provider-guide.md")} shows ("Hooks for password sign-in")',
                )
            )
    return needs


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"
