"""Per-provider token access behind the guide's ``get_credentials``/``save_credentials`` names.

One :class:`ProviderAuth` exists per provider and process, so the generated ``api/auth.py``,
its ``server_auth.py`` and the runtime all share one ``_token_info``. A warm
:meth:`ProviderAuth.get_credentials` is a dictionary lookup: no file I/O, no lock.

An expired token is refreshed once however many callers ask at once: threads (and asyncio
tasks, which wait in worker threads) queue on one lock, processes on the token file's lock, and
each re-reads the stored token before refreshing, so whoever comes second uses the first's
result.
"""

from __future__ import annotations

import datetime
import logging
import os
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import anyio.to_thread

from multichat.errors import NotAuthenticated
from multichat.runtime.config import load_config
from multichat.runtime.credentials import Credentials
from multichat.runtime.token_store import JsonFileTokenStore, TokenStore, TokenStoreError

logger = logging.getLogger(__name__)


class ProviderAuth:
    """Loads, caches and saves one provider's token."""

    def __init__(self, provider: str) -> None:
        """Start empty; the token file is found from the configuration on first use."""
        self.provider = provider
        self.token_info: dict[str, Any] = {
            "credentials": None,
            "last_refresh": None,
            "token_path": None,
        }
        self._refresh_lock = threading.Lock()
        self.refresh_count = 0

    def __repr__(self) -> str:
        """Name the provider, never the token."""
        return f"ProviderAuth({self.provider!r})"

    def token_path(self, override: str | os.PathLike[str] | None = None) -> Path:
        """The token file: ``override``, or the provider's configured ``token_path``."""
        if override is not None:
            return Path(override)
        if self.token_info["token_path"] is None:
            self.token_info["token_path"] = str(load_config().token_path(self.provider))
        return Path(self.token_info["token_path"])

    def store(self, token_path: str | os.PathLike[str] | None = None) -> JsonFileTokenStore:
        """The JSON file store of this provider's token."""
        return JsonFileTokenStore(self.token_path(token_path))

    def get_credentials(
        self, token_path: str | os.PathLike[str] | None = None
    ) -> Credentials | None:
        """Usable credentials, refreshed if expired; ``None`` when sign-in is needed.

        Raises:
            RefreshRejected: the platform refused the refresh token; run ``multichat auth``.
        """
        cached = self.token_info["credentials"]
        if token_path is None and isinstance(cached, Credentials) and not cached.is_expired():
            return cached
        with self._refresh_lock:
            cached = self.token_info["credentials"]
            if token_path is None and isinstance(cached, Credentials) and not cached.is_expired():
                return cached
            credentials = self._load_or_refresh(self.store(token_path))
            if token_path is None:
                self.token_info["credentials"] = credentials
        return credentials

    async def aget_credentials(self) -> Credentials | None:
        """:meth:`get_credentials` for async code: a refresh waits in a worker thread."""
        cached = self.token_info["credentials"]
        if isinstance(cached, Credentials) and not cached.is_expired():
            return cached
        return await anyio.to_thread.run_sync(self.get_credentials)

    async def arequire_credentials(self) -> Credentials:
        """:meth:`require_credentials` for async code."""
        cached = self.token_info["credentials"]
        if isinstance(cached, Credentials) and not cached.is_expired():
            return cached
        return await anyio.to_thread.run_sync(self.require_credentials)

    def _load_or_refresh(self, store: TokenStore) -> Credentials | None:
        data = store.load()
        if data is None:
            return None
        credentials = Credentials(data)
        if credentials.is_usable():
            return credentials
        if not credentials.get("refresh_token"):
            return None
        with store.lock():
            # Another process may have refreshed while this one waited for the lock.
            data = store.load()
            if data is None:
                return None
            credentials = Credentials(data)
            if credentials.is_usable():
                return credentials
            refreshed = Credentials(self._refresh(str(credentials["refresh_token"])))
            store.save(refreshed.to_dict())
        self.token_info["last_refresh"] = datetime.datetime.now(datetime.UTC)
        return refreshed

    def _refresh(self, refresh_token: str) -> dict[str, Any]:
        from multichat.runtime.oauth import refresh, resolve_settings

        settings = resolve_settings(load_config(), self.provider)
        logger.info("refreshing the %s token", self.provider)
        self.refresh_count += 1
        return refresh(settings, refresh_token)

    def require_credentials(self) -> Credentials:
        """Usable credentials, or :class:`NotAuthenticated` naming ``multichat auth NAME``."""
        try:
            credentials = self.get_credentials()
        except TokenStoreError as exc:
            raise NotAuthenticated(self.provider, str(exc)) from None
        if credentials is None:
            raise NotAuthenticated(self.provider)
        return credentials

    def save_credentials(
        self, credentials: Mapping[str, Any], token_path: str | os.PathLike[str] | None = None
    ) -> Credentials:
        """Store ``credentials`` (atomically, 0600) and make them the in-memory token."""
        token = Credentials(credentials)
        if not token.access_token:
            raise TokenStoreError("refusing to save a token response without an access_token")
        store = self.store(token_path)
        with store.lock():
            store.save(token.to_dict())
        if token_path is None:
            self.token_info["credentials"] = token
            self.token_info["last_refresh"] = datetime.datetime.now(datetime.UTC)
        return token

    def forget(self) -> None:
        """Drop the in-memory token (the file is left alone)."""
        self.token_info["credentials"] = None

    def status(self) -> dict[str, Any]:
        """What is known about the token, without the token: for ``/status`` and the CLI."""
        path = self.token_path()
        report: dict[str, Any] = {
            "provider": self.provider,
            "authenticated": False,
            "token_path": str(path),
            "token_file": path.exists(),
            "expires_at": None,
            "expires_in_seconds": None,
            "scopes": [],
            "age_seconds": None,
        }
        try:
            data = self.store().load()
        except TokenStoreError as exc:
            report["error"] = str(exc)
            return report
        if data is None:
            return report
        credentials = Credentials(data)
        now = time.time()
        report["authenticated"] = credentials.is_usable()
        report["scopes"] = credentials.scopes
        if credentials.expires_at is not None:
            report["expires_at"] = datetime.datetime.fromtimestamp(
                credentials.expires_at, datetime.UTC
            ).isoformat()
            report["expires_in_seconds"] = round(credentials.expires_at - now)
        report["age_seconds"] = round(now - path.stat().st_mtime)
        return report


_instances: dict[str, ProviderAuth] = {}


def provider_auth(provider: str) -> ProviderAuth:
    """The one :class:`ProviderAuth` of ``provider`` in this process."""
    instance = _instances.get(provider)
    if instance is None:
        instance = _instances[provider] = ProviderAuth(provider)
    return instance


def reset_provider_auth() -> None:
    """Forget every provider's in-memory token and token path (another workspace is active).

    The instances stay: modules that hold one keep sharing it with the runtime.
    """
    for instance in _instances.values():
        instance.token_info.update(credentials=None, last_refresh=None, token_path=None)
