"""What instances of one team server share besides tokens: one signing key and one proxy store.

An MCP client signed in through one instance must be served by any other: the JWT the OIDC
proxy gave it is checked with the proxy's key, and its upstream tokens live in the proxy's
store. The key is ``MULTICHAT_PROXY_KEY`` when set; else, with tokens in Redis, the first
instance to start puts a random one at ``multichat:NAMESPACE:oauth-proxy:key`` (``SET NX``) and
every instance reads that one back. The store then goes to Redis as well, under
``multichat:NAMESPACE:oauth-proxy__...``, a name no provider's token key can take (provider
names have no ``-``). Without either, :mod:`~.multi_user` keeps both in files, as one instance
needs. Redis holds the people's platform tokens already: the key there exposes nothing more.
"""

from __future__ import annotations

import os
import secrets
from typing import TYPE_CHECKING

from multichat.errors import UserError

if TYPE_CHECKING:
    from key_value.aio.protocols.key_value import AsyncKeyValue

    from multichat.runtime.config import WorkspaceConfig
    from multichat.runtime.redis_token_store import RedisPlace

PROXY_KEY_ENV = "MULTICHAT_PROXY_KEY"
#: Shortest ``MULTICHAT_PROXY_KEY`` taken: it signs every client's token, so it must be random.
MIN_KEY_LENGTH = 32


def shared_place(config: WorkspaceConfig) -> RedisPlace | None:
    """Where the workspace keeps tokens in Redis, or ``None`` (files; ``redis`` not imported).

    Raises:
        ConfigError: ``MULTICHAT_REDIS_URL`` is not a Redis URL.
        TokenStoreError: a Redis is configured but the ``redis`` package is missing.
    """
    if not config.server.token_store.redis_url():
        return None
    from multichat.runtime.redis_token_store import redis_place

    return redis_place(config)


def shared_key(place: RedisPlace | None) -> str | None:
    """``MULTICHAT_PROXY_KEY``, else the key agreed on in Redis at ``place``; ``None``: neither.

    Raises:
        UserError: ``MULTICHAT_PROXY_KEY`` is shorter than :data:`MIN_KEY_LENGTH`.
        TokenStoreError: Redis does not answer or refuses the password (one line, URL masked).
    """
    given = os.environ.get(PROXY_KEY_ENV)
    if given:
        if len(given) < MIN_KEY_LENGTH:
            raise UserError(
                f"{PROXY_KEY_ENV} must be at least {MIN_KEY_LENGTH} random characters: make one "
                "with `openssl rand -hex 32`"
            )
        return given
    if place is None:
        return None
    return agreed_key(place)


def agreed_key(place: RedisPlace) -> str:
    """The key every instance on ``place`` uses: the first one stored there (``SET NX``).

    Raises:
        TokenStoreError: Redis does not answer or refuses the password (one line, URL masked).
    """
    key = place.key("oauth-proxy", "key")
    client = place.client
    about = f"the proxy key at {key}"
    stored = None
    while not stored:  # None only when someone deleted it between the two commands
        place.call(lambda: client.set(key, secrets.token_urlsafe(32), nx=True), about=about)
        stored = place.call(client.get, key, about=about)
    return stored.decode() if isinstance(stored, bytes) else str(stored)


def redis_proxy_storage(place: RedisPlace) -> AsyncKeyValue:
    """The proxy's store (client registrations, upstream tokens) in Redis at ``place``.

    Its keys start ``multichat:NAMESPACE:oauth-proxy__``; the caller encrypts the values.
    """
    from key_value.aio.stores.redis import RedisStore
    from key_value.aio.wrappers.prefix_collections import PrefixCollectionsWrapper
    from redis.asyncio import Redis

    from multichat.runtime.redis_token_store import SOCKET_TIMEOUT

    client = Redis.from_url(
        place.url,
        decode_responses=True,
        socket_timeout=SOCKET_TIMEOUT,
        socket_connect_timeout=SOCKET_TIMEOUT,
    )
    return PrefixCollectionsWrapper(RedisStore(client=client), prefix=place.key("oauth-proxy"))
