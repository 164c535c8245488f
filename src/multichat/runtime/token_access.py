"""Per-provider token access behind the guide's ``get_credentials``/``save_credentials`` names.

One :class:`ProviderAuth` exists per provider and process, so the generated ``api/auth.py``,
its ``server_auth.py`` and the runtime all share one ``_token_info``. A warm
:meth:`ProviderAuth.get_credentials` is a dictionary lookup and a clock read: no lock, no file
read, a ``stat`` once a second (below).

An expired token is refreshed once however many callers ask at once: threads (and asyncio
tasks, which wait in worker threads) queue on one lock, processes on the token file's lock, and
each re-reads the stored token before refreshing, so whoever comes second uses the first's
result.

A token file changed or deleted behind the process's back (``multichat auth --logout`` in
another terminal, a person's folder removed by hand) is noticed: at most once every
:data:`FILE_CHECK_INTERVAL` seconds, a warm call compares the file's ``stat`` with what was
loaded, and reloads (or finds no token) when they differ. A ``stat`` on every call would cost
more than the rest of the warm path together.

Isolation: code in ``src.providers.X`` gets only X's token through this API. :func:`provider_auth`
and :class:`ProviderAuth` look at the calling module and raise :class:`TokenAccessDenied` for
another provider's name, and an explicit ``token_path`` may not be another provider's token
file. This guards the API, not the filesystem: providers run in one Python process, so a
hostile provider can still open the other token file, or reach into this module's globals or
the other provider's modules. Run providers you do not trust in separate workspaces (processes)
with separate token folders.

People: on a multi-user server each call carries its person (:data:`.users.current_user`), and
every method below then works on that person's own token file and in-memory token, never on the
shared ones; ``MULTICHAT_<NAME>_TOKEN`` serves no one there.
"""

from __future__ import annotations

import datetime
import logging
import os
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from time import monotonic
from typing import Any

import anyio.to_thread

from multichat.contract import env_name, provider_of_module
from multichat.errors import ConfigError, NotAuthenticated, TokenAccessDenied, UnsendableToken
from multichat.runtime.config import load_config
from multichat.runtime.credentials import Credentials, sendable_token
from multichat.runtime.token_store import (
    JsonFileTokenStore,
    TokenStore,
    TokenStoreError,
    TokenStoreUnreachable,
)
from multichat.runtime.users import (
    UserIdentity,
    current_user,
    no_user_error,
    sign_in_required,
    user_token_path,
    users_required,
)

logger = logging.getLogger(__name__)

#: Seconds between two checks that a loaded token's file is still the one loaded.
FILE_CHECK_INTERVAL = 1.0
#: What tells one version of a token file from another: inode, mtime (ns), size; None: absent.
FileStamp = tuple[int, int, int] | None


def _file_stamp(path: str) -> FileStamp:
    try:
        found = os.stat(path)
    except OSError:
        return None
    return found.st_ino, found.st_mtime_ns, found.st_size


def _empty_slot() -> dict[str, Any]:
    """A token slot with nothing loaded; ``file`` is the loaded file and its stamp, if any."""
    return {
        "credentials": None,
        "last_refresh": None,
        "token_path": None,
        "file": None,
        "checked": 0.0,
    }


def _cached(info: dict[str, Any]) -> Credentials | None:
    """The slot's unexpired in-memory token, unless its file has changed or gone since."""
    cached = info["credentials"]
    if not isinstance(cached, Credentials) or cached.is_expired():
        return None
    seen: tuple[str, FileStamp] | None = info["file"]
    if seen is not None and monotonic() - info["checked"] >= FILE_CHECK_INTERVAL:
        if _file_stamp(seen[0]) != seen[1]:
            return None
        info["checked"] = monotonic()
    return cached


def _remember_file(info: dict[str, Any], store: TokenStore, stamp: FileStamp) -> None:
    """Record which version of the token file the slot's token came from (files only)."""
    if isinstance(store, JsonFileTokenStore):
        info["file"] = (str(store.path), stamp)
        info["checked"] = monotonic()
    else:
        info["file"] = None


def _check_caller(provider: str, module: str) -> None:
    """Raise when ``module`` belongs to the package of a provider other than ``provider``."""
    owner = provider_of_module(module)
    if owner is not None and owner != provider:
        raise TokenAccessDenied(
            f"{module} (provider {owner!r}) asked for the token of provider {provider!r}; "
            "a provider may only use its own token"
        )


def _calling_module() -> str:
    """The module of the nearest caller outside this one (one or two frames up)."""
    frame = sys._getframe(1)
    while frame.f_back is not None and frame.f_globals.get("__name__") == __name__:
        frame = frame.f_back
    return str(frame.f_globals.get("__name__", ""))


class ProviderAuth:
    """Loads, caches and saves one provider's token."""

    def __init__(self, provider: str) -> None:
        """Start empty; the token file is found from the configuration on first use.

        Raises:
            TokenAccessDenied: called from another provider's package.
        """
        _check_caller(provider, _calling_module())
        self.provider = provider
        self.token_info: dict[str, Any] = _empty_slot()
        self._refresh_lock = threading.Lock()
        self.refresh_count = 0
        #: Each person's in-memory token and refresh lock, by :attr:`UserIdentity.key`.
        self._people: dict[str, tuple[dict[str, Any], threading.Lock]] = {}
        self._people_lock = threading.Lock()

    def _slot(self) -> tuple[dict[str, Any], threading.Lock, UserIdentity | None]:
        """The token state of the call's person, or the shared one when the call has none.

        Raises:
            TokenAccessDenied: a multi-user server got a call that names no person.
        """
        user = current_user.get()
        if user is None:
            if users_required():
                raise no_user_error(self.provider)
            return self.token_info, self._refresh_lock, None
        slot = self._people.get(user.key)
        if slot is None:
            with self._people_lock:
                slot = self._people.setdefault(user.key, (_empty_slot(), threading.Lock()))
        return slot[0], slot[1], user

    def __repr__(self) -> str:
        """Name the provider, never the token."""
        return f"ProviderAuth({self.provider!r})"

    def token_path(self, override: str | os.PathLike[str] | None = None) -> Path:
        """The token file: ``override``, or the provider's configured ``token_path``.

        For a call that carries a person, their own file (``.multichat/users/...``).

        Raises:
            TokenAccessDenied: ``override`` is another provider's token file, or is given on a
                call that carries a person (whose token has one place only).
        """
        info, _, user = self._slot()
        if override is not None:
            if user is not None:
                raise TokenAccessDenied(
                    f"{self.provider}: an explicit token_path cannot serve a call made for a "
                    "person; each person's token has its own file"
                )
            self._refuse_foreign_file(Path(override))
            return Path(override)
        if info["token_path"] is None:
            config = load_config()
            path = (
                user_token_path(config.root, user, self.provider)
                if user is not None
                else config.token_path(self.provider)
            )
            info["token_path"] = str(path)
        return Path(info["token_path"])

    def _refuse_foreign_file(self, path: Path) -> None:
        try:
            config = load_config()
        except ConfigError:
            return
        target = path.resolve()
        owners = sorted(n for n in config.providers if config.token_path(n).resolve() == target)
        if owners and self.provider not in owners:
            raise TokenAccessDenied(
                f"{self.provider}: {path} is the token file of provider {owners[0]!r}; "
                "a provider may only use its own token"
            )

    def store(self, token_path: str | os.PathLike[str] | None = None) -> TokenStore:
        """The store of this provider's token: Redis when configured, else its JSON file.

        An explicit ``token_path`` is always that file. A call made for a person uses that
        person's key (or file) only.
        """
        if token_path is None:
            config = load_config()
            if config.server.token_store.redis_url():
                from multichat.runtime.redis_token_store import SINGLE_USER, provider_store

                user = current_user.get()
                return provider_store(
                    config, self.provider, user.key if user is not None else SINGLE_USER
                )
        return JsonFileTokenStore(self.token_path(token_path))

    def get_credentials(
        self, token_path: str | os.PathLike[str] | None = None
    ) -> Credentials | None:
        """Usable credentials, refreshed if expired; ``None`` when sign-in is needed.

        Raises:
            RefreshRejected: the platform refused the refresh token; run ``multichat auth``.
            SignInRequired: the same, for a call made for a person, whose dead token file is
                deleted; the message holds their new sign-in link.
        """
        info, lock, user = self._slot()
        if token_path is None:
            cached = _cached(info)
            if cached is not None:
                return cached
        with lock:
            if token_path is None:
                cached = _cached(info)
                if cached is not None:
                    return cached
            from_environment = (
                self.environment_credentials() if token_path is None and user is None else None
            )
            if from_environment is not None:
                credentials: Credentials | None = from_environment
                if token_path is None:
                    info["file"] = None
            else:
                # An explicit file is read afresh each time: nothing of it goes in the slot.
                slot = info if token_path is None else _empty_slot()
                slot["credentials"] = None  # a reload that fails must not leave the old token
                credentials = self._load_or_refresh(self.store(token_path), slot, user)
            if token_path is None:
                info["credentials"] = credentials
        return credentials

    def environment_credentials(self) -> Credentials | None:
        """``MULTICHAT_<NAME>_TOKEN``, which serves without any file (CI, containers).

        With the ``basic`` scheme the value is ``user:secret`` (Zulip's ``email:API key``).
        It is one account's token, so it never serves a call made for a person. Whitespace
        around it (a newline from ``$(cat file)``-less pasting) is dropped.

        Raises:
            UnsendableToken: the value holds a character no header can carry.
        """
        variable = env_name(self.provider, "TOKEN")
        value = os.environ.get(variable, "").strip()
        if not value or current_user.get() is not None:
            return None
        sendable_token(value, self.provider, variable)
        data: dict[str, Any] = {"access_token": value, "mode": "token", "source": "environment"}
        if load_config().provider(self.provider).auth.scheme == "basic":
            username, _, secret = value.partition(":")
            data.update(access_token=secret, username=username)
        return Credentials(data)

    async def aget_credentials(self) -> Credentials | None:
        """:meth:`get_credentials` for async code: a refresh waits in a worker thread."""
        cached = _cached(self._slot()[0])
        if cached is not None:
            return cached
        return await anyio.to_thread.run_sync(self.get_credentials)

    async def arequire_credentials(self) -> Credentials:
        """:meth:`require_credentials` for async code."""
        cached = _cached(self._slot()[0])
        if cached is not None:
            return cached
        return await anyio.to_thread.run_sync(self.require_credentials)

    def _load_or_refresh(
        self, store: TokenStore, info: dict[str, Any], user: UserIdentity | None
    ) -> Credentials | None:
        """The stored token, refreshed (and saved) when expired; records the file it came from.

        The file's stamp is taken before reading it: a write in between makes the stamp older
        than the content, so the next check reloads rather than missing the change.
        """
        file = store.path if isinstance(store, JsonFileTokenStore) else None
        _remember_file(info, store, _file_stamp(str(file)) if file is not None else None)
        data = store.load()
        if data is None:
            return None
        credentials = Credentials(data)
        if credentials.is_usable():
            return self._sendable(credentials, store)
        if not credentials.get("refresh_token"):
            return None
        with store.lock():
            # Another process may have refreshed while this one waited for the lock.
            data = store.load()
            if data is None:
                return None
            credentials = Credentials(data)
            if credentials.is_usable():
                return self._sendable(credentials, store)
            from multichat.runtime.oauth import RefreshRejected

            try:
                refreshed = Credentials(self._refresh(credentials)).obtained_now()
            except RefreshRejected:
                if user is None:
                    raise  # one account: `multichat auth NAME` replaces the file
                # A person signs in again through their link; the dead token would only send
                # every later call to the platform to be refused once more.
                store.delete()
                raise self.signed_out("the platform rejected the refresh token") from None
            store.save(refreshed.to_dict())
            _remember_file(info, store, _file_stamp(str(file)) if file is not None else None)
        info["last_refresh"] = datetime.datetime.now(datetime.UTC)
        return refreshed

    def _sendable(self, credentials: Credentials, store: TokenStore) -> Credentials:
        """``credentials`` if a header can carry their token (a hand-edited file may not).

        Raises:
            UnsendableToken: naming the file, the character and its position, never the token.
        """
        sendable_token(credentials.access_token, self.provider, store.location)
        return credentials

    def _refresh(self, credentials: Credentials) -> dict[str, Any]:
        """New tokens for expired ``credentials``, the way they were obtained.

        OAuth and device tokens use the OAuth refresh grant; a password sign-in's tokens go
        through the provider's ``refresh_credentials`` hook (Matrix's ``/refresh`` is not
        OAuth). What the refresh does not return (user, mode, username) is kept.
        """
        logger.info("refreshing the %s token", self.provider)
        self.refresh_count += 1
        config = load_config()
        if credentials.get("mode") == "password":
            import anyio

            from multichat.runtime.sign_in import call_hook, provider_hook

            hook = provider_hook(config, self.provider, "refresh_credentials")
            if hook is None:
                raise self.signed_out("the token expired and cannot be refreshed")
            fresh = dict(anyio.run(call_hook, hook, credentials.to_dict()))
        else:
            from multichat.runtime.oauth import refresh, resolve_settings

            settings = resolve_settings(config, self.provider, need_authorize=False)
            fresh = refresh(settings, str(credentials["refresh_token"]))
        kept = {key: credentials[key] for key in ("mode", "user", "username") if key in credentials}
        return {**kept, **fresh}

    def require_credentials(self) -> Credentials:
        """Usable credentials, or :class:`NotAuthenticated` naming ``multichat auth NAME``."""
        try:
            credentials = self.get_credentials()
        except TokenStoreUnreachable:
            raise  # nothing is known of the token: signing in again would not help
        except TokenStoreError as exc:
            raise self.signed_out(str(exc)) from None
        if credentials is None:
            raise self.signed_out("no token yet")
        return credentials

    def signed_out(self, reason: str) -> NotAuthenticated:
        """The error for a missing or refused token, naming the fix for this sign-in mode.

        For a call made for a person, the fix is that person's own sign-in link.
        """
        user = current_user.get()
        if user is not None:
            return sign_in_required(self.provider, reason, user)
        try:
            mode: str | None = load_config().provider(self.provider).auth.mode
        except ConfigError:
            mode = None
        return NotAuthenticated(self.provider, reason, mode)

    def save_credentials(
        self, credentials: Mapping[str, Any], token_path: str | os.PathLike[str] | None = None
    ) -> Credentials:
        """Store ``credentials`` (atomically, 0600) and make them the in-memory token."""
        token = Credentials(credentials).obtained_now()
        if not token.access_token:
            raise TokenStoreError("refusing to save a token response without an access_token")
        info = self._slot()[0]
        store = self.store(token_path)
        with store.lock():
            store.save(token.to_dict())
            stamp = _file_stamp(str(store.path)) if isinstance(store, JsonFileTokenStore) else None
        if token_path is None:
            _remember_file(info, store, stamp)
            info["credentials"] = token
            info["last_refresh"] = datetime.datetime.now(datetime.UTC)
        return token

    def forget(self) -> None:
        """Drop the in-memory token of the call's person, or the shared one (files stay)."""
        self._slot()[0]["credentials"] = None

    def status(self) -> dict[str, Any]:
        """What is known about the token, without the token: for ``/status`` and the CLI."""
        store = self.store()
        path = store.path if isinstance(store, JsonFileTokenStore) else None
        report: dict[str, Any] = {
            "provider": self.provider,
            "authenticated": False,
            "token_path": store.location,
            "token_file": path.exists() if path is not None else False,
            "expires_at": None,
            "expires_in_seconds": None,
            "scopes": [],
            "age_seconds": None,
            "source": "file" if path is not None else "redis",
        }
        try:
            from_environment = self.environment_credentials()
        except UnsendableToken as exc:
            report.update(
                error=str(exc), source=f"environment ({env_name(self.provider, 'TOKEN')})"
            )
            return report
        if from_environment is not None:
            report.update(
                authenticated=True, source=f"environment ({env_name(self.provider, 'TOKEN')})"
            )
            return report
        try:
            data = store.load()
        except TokenStoreError as exc:
            report["error"] = str(exc)
            return report
        if data is None:
            return report
        credentials = Credentials(data)
        now = time.time()
        report["authenticated"] = credentials.is_usable()
        report["refreshable"] = bool(credentials.get("refresh_token"))
        if report["authenticated"]:
            try:
                self._sendable(credentials, store)
            except UnsendableToken as exc:
                report.update(authenticated=False, error=str(exc))
        report["scopes"] = credentials.scopes
        if credentials.expires_at is not None:
            report["expires_at"] = datetime.datetime.fromtimestamp(
                credentials.expires_at, datetime.UTC
            ).isoformat()
            report["expires_in_seconds"] = round(credentials.expires_at - now)
        obtained = data.get("obtained_at")
        if path is not None:
            report["age_seconds"] = round(now - path.stat().st_mtime)
        elif isinstance(obtained, int | float):
            report["age_seconds"] = round(now - obtained)
        return report


_instances: dict[str, ProviderAuth] = {}


def provider_auth(provider: str) -> ProviderAuth:
    """The one :class:`ProviderAuth` of ``provider`` in this process.

    Raises:
        TokenAccessDenied: called from code in another provider's package (``src.providers.X``
            asking for Y); see the module docstring for what this does and does not guard.
    """
    # A frame lookup and a prefix test: about a tenth of a microsecond per call.
    _check_caller(provider, sys._getframe(1).f_globals.get("__name__", ""))
    instance = _instances.get(provider)
    if instance is None:
        instance = _instances[provider] = ProviderAuth(provider)
    return instance


def reset_provider_auth() -> None:
    """Forget every provider's in-memory token and token path (another workspace is active).

    The instances stay: modules that hold one keep sharing it with the runtime.
    """
    for instance in _instances.values():
        instance.token_info.update(_empty_slot())
        with instance._people_lock:
            instance._people.clear()
