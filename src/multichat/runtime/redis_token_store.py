"""Tokens in Redis, so several server instances share one token and refresh it once.

Imported only when ``server.token_store.url`` or ``MULTICHAT_REDIS_URL`` names a Redis: the
default start path never loads ``redis``. A token is one JSON string under
``multichat:{namespace}:{provider}:{user}:token`` (``-`` for the one person a server acts for
today), replaced by one ``SET``, so a reader sees the old token or the new one. The lock is
redis-py's :class:`redis.lock.Lock` with a lease: an instance killed while it refreshes holds
the lock until the lease ends, never longer, and the old refresh token stays stored until the
new token is saved. Messages name the URL with its password masked, never a token.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from multichat.errors import ConfigError
from multichat.runtime.config import REDIS_URL_ENV, WorkspaceConfig
from multichat.runtime.token_store import TokenStoreError, TokenStoreUnreachable, decode_token

try:
    import redis
    from redis.exceptions import LockError, LockNotOwnedError
    from redis.lock import Lock
except ImportError as exc:  # pragma: no cover - only without the extra installed
    raise TokenStoreError(
        "a Redis token store is configured but the redis package is missing: "
        "install multichat-mcp[redis]"
    ) from exc

logger = logging.getLogger(__name__)

#: The user slot of the key while a server acts for one person (issue 23's multi-user mode
#: puts the MCP user's id here).
SINGLE_USER = "-"
#: Seconds to connect and to wait for one reply: a Redis that is gone fails fast.
SOCKET_TIMEOUT = 5.0
_SECRET_PARAMS = frozenset({"password"})


def mask_url(url: str) -> str:
    """``url`` with its password (in the user part or a ``password=`` parameter) as ``***``."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password is not None:
        user = parts.username or ""
        netloc = f"{user}:***@{netloc.rpartition('@')[2]}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, "***" if k in _SECRET_PARAMS else v) for k, v in pairs], safe="*")
    # urlunsplit drops the empty authority of unix:///path; keep the URL as it was written.
    return f"{parts.scheme}://{netloc}{parts.path}" + (f"?{query}" if query else "")


def _secrets_of(url: str) -> list[str]:
    parts = urlsplit(url)
    found = [parts.password] if parts.password else []
    found += [v for k, v in parse_qsl(parts.query) if k in _SECRET_PARAMS and v]
    return found


def token_key(namespace: str, provider: str, user: str = SINGLE_USER) -> str:
    """The Redis key of one provider's token for one user of one workspace."""
    return f"multichat:{namespace}:{provider}:{user}:token"


def default_namespace(config: WorkspaceConfig) -> str:
    """The workspace folder's name, made safe for a key: the default ``namespace``."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", config.root.name)[:64] or "workspace"


@dataclass(frozen=True)
class RedisPlace:
    """Where one workspace's state lives in Redis: the URL and the namespace of its keys."""

    url: str = field(repr=False)
    namespace: str

    @property
    def masked_url(self) -> str:
        """The URL with its password masked: safe for messages and logs."""
        return mask_url(self.url)

    def key(self, *parts: str) -> str:
        """``multichat:NAMESPACE:PART:...``: a key of this workspace."""
        return ":".join(("multichat", self.namespace, *parts))

    @property
    def client(self) -> redis.Redis:
        """The process's one client of this Redis (:func:`redis_client`)."""
        return redis_client(self.url)

    def call(self, function: Any, *args: Any, about: str) -> Any:
        """Run one command of :attr:`client`; a failure is one line (``about`` names what)."""
        return redis_call(self.url, about, function, *args)


def redis_place(config: WorkspaceConfig) -> RedisPlace | None:
    """Where ``server.token_store`` (or ``MULTICHAT_REDIS_URL``) puts state; ``None``: files.

    Raises:
        ConfigError: ``MULTICHAT_REDIS_URL`` is not a Redis URL.
    """
    settings = config.server.token_store
    url = settings.redis_url()
    if not url:
        return None
    if urlsplit(url).scheme not in ("redis", "rediss", "unix"):
        raise ConfigError(
            f"{REDIS_URL_ENV} or server.token_store.url must be a redis://, rediss:// or "
            "unix:// URL"
        )
    return RedisPlace(url, settings.namespace or default_namespace(config))


def provider_store(
    config: WorkspaceConfig, provider: str, user: str = SINGLE_USER
) -> RedisTokenStore:
    """The Redis store of ``provider``'s token for ``user``, as ``server.token_store`` says.

    Raises:
        ConfigError: no Redis URL is configured, or ``MULTICHAT_REDIS_URL`` is not one.
    """
    place = redis_place(config)
    if place is None:
        raise ConfigError(
            f"{REDIS_URL_ENV} or server.token_store.url must be a redis://, rediss:// or "
            "unix:// URL"
        )
    config.provider(provider)
    settings = config.server.token_store
    return RedisTokenStore(
        place.url,
        token_key(place.namespace, provider, user),
        lock_lease=settings.lock_lease,
        lock_wait=settings.lock_wait,
    )


_clients: dict[str, redis.Redis] = {}
_clients_lock = threading.Lock()


def redis_client(url: str) -> redis.Redis:
    """One client (and connection pool) per URL for the whole process."""
    with _clients_lock:
        client = _clients.get(url)
        if client is None:
            client = _clients[url] = redis.Redis.from_url(
                url, socket_timeout=SOCKET_TIMEOUT, socket_connect_timeout=SOCKET_TIMEOUT
            )
        return client


class RedisTokenStore:
    """One token in Redis behind the :class:`~multichat.runtime.token_store.TokenStore` calls."""

    def __init__(
        self, url: str, key: str, *, lock_lease: float = 30.0, lock_wait: float | None = None
    ) -> None:
        """Keep the token at ``key``; the lock (``key`` ending in ``:lock``) lasts ``lock_lease``.

        A caller waits ``lock_wait`` seconds for the lock (default: twice the lease, so that
        it outlives the lease of an instance that died holding it).
        """
        self._url = url
        self.key = key
        self.lock_key = key.removesuffix(":token") + ":lock"
        self.lock_lease = lock_lease
        self.lock_wait = lock_wait if lock_wait is not None else 2 * lock_lease
        self._redis = redis_client(url)

    @property
    def url(self) -> str:
        """The Redis URL with its password masked: safe for messages and logs."""
        return mask_url(self._url)

    @property
    def location(self) -> str:
        """Where the token lives, for people: the masked URL and the key."""
        return f"{self.url} key {self.key}"

    def __repr__(self) -> str:
        """Name the masked URL and the key, never the token or the password."""
        return f"RedisTokenStore({self.url!r}, key={self.key!r})"

    def ping(self) -> None:
        """Check that Redis answers (``multichat run`` does it before serving)."""
        self._call(self._redis.ping)

    def load(self) -> dict[str, Any] | None:
        """The stored token, or ``None`` when the key does not exist."""
        raw = self._call(self._redis.get, self.key)
        if raw is None:
            return None
        return decode_token(raw, f"the token at {self.location}")

    def save(self, token: dict[str, Any]) -> None:
        """Replace the stored token with one ``SET``: readers see the old one or the new one."""
        payload = json.dumps(token, sort_keys=True)
        self._call(self._redis.set, self.key, payload)

    def delete(self) -> bool:
        """Remove the stored token; whether there was one."""
        return bool(self._call(self._redis.delete, self.key))

    @contextlib.contextmanager
    def lock(self) -> Iterator[object]:
        """Hold the Redis lock of this token; its lease ends it if this process dies.

        Not re-entrant: a thread that holds it and asks again waits ``lock_wait`` and fails.

        Raises:
            TokenStoreError: Redis is unreachable, or the lock stayed taken ``lock_wait`` s.
        """
        lock = self._redis.lock(
            self.lock_key,
            timeout=self.lock_lease,
            blocking_timeout=self.lock_wait,
            sleep=0.05,
            thread_local=False,
        )
        if not self._call(lock.acquire):
            raise TokenStoreError(
                f"the token lock at {self.url} key {self.lock_key} stayed taken for "
                f"{self.lock_wait:g} s; try again"
            )
        try:
            yield self
        finally:
            self._release(lock)

    def _release(self, lock: Lock) -> None:
        try:
            lock.release()
        except LockNotOwnedError:
            # The lease ran out first: another instance may have taken the lock meanwhile.
            logger.warning(
                "the token lock %s outlived its %g s lease; raise server.token_store.lock_lease",
                self.lock_key,
                self.lock_lease,
            )
        except (LockError, redis.RedisError) as exc:
            logger.warning(
                "could not release the token lock %s (%s); its lease ends it",
                self.lock_key,
                type(exc).__name__,
            )

    def _call(self, function: Any, *args: Any) -> Any:
        """Run one Redis command; a failure becomes one line naming the masked URL."""
        return redis_call(self._url, f"the token at {self.key}", function, *args)


def redis_call(url: str, about: str, function: Any, *args: Any) -> Any:
    """Run one command on Redis at ``url``; a failure is one line naming the masked URL.

    Raises:
        TokenStoreUnreachable: Redis does not answer.
        TokenStoreError: it refuses the password, or the command failed (on ``about``).
    """
    masked = mask_url(url)
    try:
        return function(*args)
    except redis.AuthenticationError:
        raise TokenStoreError(
            f"Redis at {masked} refused the credentials; correct the password in "
            "server.token_store.url or MULTICHAT_REDIS_URL"
        ) from None
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        reason = str(exc) or type(exc).__name__
        for secret in _secrets_of(url):
            reason = reason.replace(secret, "***")
        raise TokenStoreUnreachable(
            f"cannot reach Redis at {masked} ({reason.rstrip('.')}): start it, or correct "
            "server.token_store.url or MULTICHAT_REDIS_URL"
        ) from None
    except redis.RedisError as exc:
        raise TokenStoreError(
            f"Redis at {masked} failed ({type(exc).__name__}) on {about}"
        ) from None
