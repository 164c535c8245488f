"""Signing in without a browser: a pasted token, a password exchanged for tokens, a device code.

Every way ends in :func:`accept`: the platform's who-am-I call (``auth.whoami``) must accept the
new token before it is saved (0600, atomically, under the token file's lock); a refused token
saves nothing and the error carries the platform's reason. The browser's OAuth flow is
:mod:`.local_signin`. A password is passed on to the provider's ``exchange_password`` hook and
dropped: it is never written, logged or kept.

The token file holds the token response as the platform gave it, plus ``mode`` (how it was
obtained), ``username`` (HTTP Basic's user part, e.g. Zulip's email) and ``user`` (who-am-I's
answer, id and name only): see docs/provider-guide.md.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anyio

from multichat.contract import package_name
from multichat.docs_pages import docs_page
from multichat.errors import MultichatError, ProviderLoadError, UserError
from multichat.runtime.config import SignInMode, WorkspaceConfig
from multichat.runtime.credentials import sendable_token
from multichat.runtime.identity import who_is
from multichat.runtime.loader import activate_workspace
from multichat.runtime.oauth import checked_token
from multichat.runtime.sign_in_needs import EXCHANGE_PASSWORD
from multichat.runtime.token_access import provider_auth

if TYPE_CHECKING:
    from multichat.runtime.device_flow import DeviceCode

#: The who-am-I fields kept in the token file, to show who is signed in without a call.
USER_FIELDS = ("id", "user_id", "sub", "username", "name", "display_name", "real_name", "email")


@dataclass(frozen=True)
class SignedIn:
    """Who signed in, and where the token was saved (the store's ``location``: file or Redis)."""

    provider: str
    user: Mapping[str, Any]
    location: str

    def line(self) -> str:
        """``signed in to slack as Ada Lovelace; token saved to ...``."""
        who = next(
            (str(self.user[key]) for key in ("name", "username", "id") if key in self.user), ""
        )
        shown = f" as {who}" if who else ""
        return f"signed in to {self.provider}{shown}; token saved to {self.location}"


def user_summary(profile: Mapping[str, Any]) -> dict[str, Any]:
    """The identifying fields of a who-am-I answer (a nested ``user`` object is looked into)."""
    nested = profile.get("user")
    found = {key: profile[key] for key in USER_FIELDS if isinstance(profile.get(key), str | int)}
    if isinstance(nested, Mapping):
        found.update(
            {key: nested[key] for key in USER_FIELDS if isinstance(nested.get(key), str | int)}
        )
    return found


async def accept(provider: str, credentials: Mapping[str, Any], mode: SignInMode) -> SignedIn:
    """Check ``credentials`` with the platform's who-am-I call, then save them.

    Raises:
        NotAuthenticated: the platform refused the token (its reason is in the message).
    """
    profile = await who_is(provider, credentials)
    token = {**credentials, "mode": mode, "user": user_summary(profile)}
    auth = provider_auth(provider)
    await anyio.to_thread.run_sync(auth.save_credentials, token)
    return SignedIn(provider, token["user"], auth.store().location)


def token_credentials(
    provider: str, scheme: str, token: str, username: str | None, source: str
) -> dict[str, Any]:
    """What a pasted token (or API key) is saved as, once checked it can be sent.

    With the ``basic`` scheme the user part comes from ``username`` or from ``user:secret``.

    Raises:
        UserError: the token is empty, or has no user part where HTTP Basic needs one.
        UnsendableToken: it holds a character no header can carry (a pasted curly quote).
    """
    text = token.strip()
    if not text:
        raise UserError(f"{provider}: no token was given ({source} was empty)")
    sendable_token(text, provider, source)
    credentials: dict[str, Any] = {"access_token": text, "token_type": "Bearer"}
    if scheme == "basic":
        if not username:
            username, separator, text = text.partition(":")
            if not separator or not username or not text:
                raise UserError(
                    f"{provider} signs in with HTTP Basic: give `user:key` (e.g. your email and "
                    "API key, as `email:key`)"
                )
        credentials.update(access_token=text, username=username)
    return credentials


def sign_in_with_token(
    config: WorkspaceConfig, provider: str, token: str, username: str | None = None
) -> SignedIn:
    """Save a pasted token (or API key) once the platform accepts it (:func:`token_credentials`).

    Raises:
        UserError: the token is empty, or has no user part where HTTP Basic needs one.
        UnsendableToken: it holds a character no header can carry (a pasted curly quote).
    """
    scheme = config.provider(provider).auth.scheme
    source = "stdin" if username is None else "the zuliprc"
    credentials = token_credentials(provider, scheme, token, username, source)
    return anyio.run(accept, provider, credentials, "token")


def provider_hook(config: WorkspaceConfig, provider: str, name: str) -> Callable[..., Any] | None:
    """A sign-in hook the provider's ``api/auth.py`` defines (``exchange_password``...)."""
    activate_workspace(config)
    module_name = f"{package_name(provider)}.api.auth"
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # a provider's own bug becomes one line
        raise ProviderLoadError(provider, f"{module_name}: {type(exc).__name__}: {exc}") from exc
    hook = getattr(module, name, None)
    return hook if callable(hook) else None


async def call_hook(hook: Callable[..., Any], *args: Any) -> Any:
    """Call a hook that may be sync (run in a worker thread) or async."""
    if inspect.iscoroutinefunction(hook):
        return await hook(*args)
    result = await anyio.to_thread.run_sync(hook, *args)
    if inspect.isawaitable(result):
        return await result
    return result


def sign_in_with_password(
    config: WorkspaceConfig, provider: str, username: str, password: str
) -> SignedIn:
    """Exchange user and password for tokens through the provider's hook; keep only the tokens.

    Raises:
        MultichatError: the provider has no ``exchange_password`` hook.
        OAuthFailed, NotAuthenticated, PlatformError: the platform refused (its reason given).
    """
    hook = provider_hook(config, provider, EXCHANGE_PASSWORD.name)
    if hook is None:
        raise MultichatError(
            f"{provider} signs in with a password, but its api/auth.py defines no "
            f"`{EXCHANGE_PASSWORD.call}`: see {docs_page('provider-guide.md')}"
        )

    try:
        return anyio.run(exchange_password, provider, hook, username, password)
    finally:
        del password  # the only reference this module held


async def exchange_password(
    provider: str, hook: Callable[..., Any], username: str, password: str
) -> SignedIn:
    """Hand user and password to ``hook``, then check and save the tokens it answers."""
    token = checked_token(provider, await call_hook(hook, username, password))
    return await accept(provider, token, "password")


def sign_in_with_device(
    config: WorkspaceConfig, provider: str, show: Callable[[DeviceCode], None]
) -> SignedIn:
    """The device authorization grant (RFC 8628): ``show`` tells the user where to go."""
    from multichat.runtime.device_flow import device_sign_in

    token = device_sign_in(config, provider, show=show)
    return anyio.run(accept, provider, token, "device")
