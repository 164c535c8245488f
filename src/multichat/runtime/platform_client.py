"""One HTTP client for every preset's platform calls: auth, timeouts, retries, pages, a bound.

:meth:`PlatformClient.for_provider` is the usual way in: the provider's ``api_base_url``,
``http_timeout`` and ``auth.scheme`` from its config, its own token (refreshed when it
expires), and one connection pool per provider and event loop, reused across tool calls.

429 answers are retried after their ``Retry-After`` (capped), 5xx answers and transport errors
with exponential backoff and jitter, a bounded number of times (tenacity); then the caller gets
one readable :class:`PlatformError` carrying the platform's own message. Rate limits announced
in Discord's ``X-RateLimit-*`` headers hold later requests until they reset: a route whose
bucket has nothing ``Remaining``, or every route after a 429 of the global limit. A 401 becomes
:class:`NotAuthenticated`, which names the command that signs in again. A semaphore bounds how
many requests one client has in flight, so fan-out across channels cannot flood the platform.
A path with dot segments, ``?``, ``#``, a backslash or an escaped dot or slash is refused before
anything is sent: ids come from the model, and ``channels/../../oauth/revoke`` must not leave
``api_base_url``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import email.utils
import re
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal

import httpx2
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from multichat.errors import ConfigError, MultichatError
from multichat.runtime.config import DEFAULT_HTTP_TIMEOUT, load_config, provider_settings

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
#: Methods that may be sent twice without doing twice: any failure is retried for them.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
#: For the others (POST, PATCH) only answers that mean "not processed" are retried: a time-out
#: or a 5xx may come after the platform already posted the message.
WRITE_RETRYABLE_STATUS = frozenset({429, 503})
TokenSource = Callable[[], Awaitable[str]]

#: Discord's rate-limit headers (https://discord.com/developers/docs/topics/rate-limits,
#: "Header Format"): seconds until a bucket resets (with decimals), what is left of it, and, on a
#: 429 only, whether the limit hit is the global one (``Global: true`` or ``Scope: global``).
RESET_AFTER_HEADER = "X-RateLimit-Reset-After"
REMAINING_HEADER = "X-RateLimit-Remaining"
GLOBAL_HEADER = "X-RateLimit-Global"
SCOPE_HEADER = "X-RateLimit-Scope"
#: Routes whose exhausted bucket is remembered at once; expired holds are dropped first.
MAX_HELD_ROUTES = 512

#: Longer URLs are refused before sending: common servers and proxies stop at 8 KiB.
MAX_URL_LENGTH = 8192
_UNSAFE_PATH = re.compile(r"(^|/)\.{1,2}(/|$)|[?#\\]|%2e|%2f|%5c", re.IGNORECASE)


class PlatformError(MultichatError):
    """The platform answered with an error, or kept failing after the retries."""

    def __init__(self, message: str, status: int | None = None) -> None:
        """Keep the HTTP status for callers that branch on it."""
        self.status = status
        super().__init__(message)


class _Retryable(Exception):
    """An answer worth another try (429, 5xx) or a transport error."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        self.reason = reason
        self.retry_after = retry_after
        super().__init__(reason)


_SECONDS = re.compile(r"\d+(?:\.\d+)?")


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date).

    Seconds with decimals are taken too: Discord's rate-limit times have them.
    """
    if not value:
        return None
    value = value.strip()
    if _SECONDS.fullmatch(value):
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (now if now is not None else time.time()))


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """How long a 429 asks to wait: ``Retry-After``, else Discord's ``X-RateLimit-Reset-After``."""
    waited = parse_retry_after(headers.get("Retry-After"))
    if waited is None:
        waited = parse_retry_after(headers.get(RESET_AFTER_HEADER))
    return waited


def is_global_limit(headers: Mapping[str, str]) -> bool:
    """Whether a 429 is Discord's global limit, which holds every route of the token."""
    return (
        headers.get(GLOBAL_HEADER, "").strip().lower() == "true"
        or headers.get(SCOPE_HEADER, "").strip().lower() == "global"
    )


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try: attempts, backoff bounds, and the longest ``Retry-After`` honoured."""

    attempts: int = 4
    initial_backoff: float = 0.2
    max_backoff: float = 5.0
    max_retry_after: float = 30.0


class _RetryAfterOrBackoff:
    """Wait what the platform asked for (capped), else exponential backoff with jitter."""

    def __init__(self, policy: RetryPolicy) -> None:
        self._cap = policy.max_retry_after
        self._backoff = wait_exponential_jitter(
            multiplier=policy.initial_backoff,
            max=policy.max_backoff,
            jitter=policy.initial_backoff,
        )

    def __call__(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, _Retryable) and error.retry_after is not None:
            return min(error.retry_after, self._cap)
        return float(self._backoff(state))


Scheme = Literal["bearer", "bot", "basic"]


def authorization(credentials: Mapping[str, Any], scheme: Scheme) -> str:
    """The ``Authorization`` header for a token: ``Bearer T``, ``Bot T`` or HTTP Basic.

    Basic sends ``username:token`` (Zulip's ``email:API key``); the username is stored beside
    the token.
    """
    token = str(credentials.get("access_token", ""))
    if scheme == "bot":
        return f"Bot {token}"
    if scheme == "basic":
        pair = f"{credentials.get('username', '')}:{token}".encode()
        return "Basic " + base64.b64encode(pair).decode("ascii")
    return f"Bearer {token}"


class PlatformClient:
    """An async JSON client for one provider's platform API."""

    def __init__(
        self,
        provider: str,
        base_url: str,
        token: TokenSource | None = None,
        *,
        credentials: Mapping[str, Any] | None = None,
        scheme: Scheme = "bearer",
        timeout: float | None = None,
        retry: RetryPolicy | None = None,
        max_concurrency: int = 8,
        transport: httpx2.AsyncBaseTransport | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Nothing connects yet; each request first fetches the provider's token.

        The token (refreshed when it has expired) is sent as ``scheme`` says; ``credentials``
        (a token response not saved yet, being checked) or ``token`` supply it instead.
        ``timeout`` (seconds per request) defaults to the provider's ``http_timeout``.
        """
        if timeout is None:
            settings = provider_settings(provider)
            timeout = settings.http_timeout if settings is not None else DEFAULT_HTTP_TIMEOUT
        self.provider = provider
        self._token = token
        self._credentials = dict(credentials) if credentials is not None else None
        self._scheme: Scheme = scheme
        self._retry = retry or RetryPolicy()
        self._limit = asyncio.Semaphore(max_concurrency)
        if transport is None:
            transport = _test_transports.get(provider)
        self._http = httpx2.AsyncClient(
            base_url=base_url.rstrip("/") + "/",
            timeout=httpx2.Timeout(timeout, connect=min(timeout, 5.0)),
            transport=transport,
            headers={"Accept": "application/json", "User-Agent": "multichat", **(headers or {})},
        )
        #: The base as a string: each request's URL is built from it whole, so httpx parses
        #: one absolute URL instead of merging a relative one and then its query (about a
        #: third of a request's own CPU time went on those parses, in bench/).
        self._base = str(self._http.base_url)
        self.attempts_made = 0
        #: Monotonic times until which a route (``"GET channels/1/messages"``), or every route
        #: (``_held_all``), must wait for a rate limit the platform announced.
        self._held: dict[str, float] = {}
        self._held_all = 0.0

    @staticmethod
    @contextlib.contextmanager
    def faked(provider: str, transport: httpx2.AsyncBaseTransport) -> Iterator[None]:
        """For tests: every client of ``provider`` made in the block talks to ``transport``.

        Fake the platform at the HTTP edge (``httpx2.MockTransport(handler)``) and keep the
        rest of the provider (tools, auth, retries) real.
        """
        _test_transports[provider] = transport
        _shared_clear(provider)
        try:
            yield
        finally:
            _test_transports.pop(provider, None)
            _shared_clear(provider)

    @classmethod
    def for_provider(
        cls,
        provider: str,
        *,
        max_concurrency: int = 8,
        transport: httpx2.AsyncBaseTransport | None = None,
    ) -> PlatformClient:
        """The provider's shared client for the running event loop, made on first use.

        Raises:
            ConfigError: the provider has no ``api_base_url``.
        """
        loop = asyncio.get_running_loop()
        clients = _shared.setdefault(loop, {})
        client = clients.get(provider)
        if client is None or transport is not None:
            settings = load_config().provider(provider)
            if not settings.api_base_url:
                raise ConfigError(
                    f"set `api_base_url` for {provider} in provider-config.yaml to call its API"
                )
            client = cls(
                provider,
                settings.api_base_url,
                scheme=settings.auth.scheme,
                timeout=settings.http_timeout,
                max_concurrency=max_concurrency,
                transport=transport,
            )
            if transport is None:
                clients[provider] = client
        return client

    async def __aenter__(self) -> PlatformClient:
        """Use as ``async with``; the connection pool closes on exit."""
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Close the connection pool."""
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        form: Mapping[str, Any] | None = None,
    ) -> Any:
        """Send one request with retries; return the decoded JSON body (``None`` for 204).

        The body is ``json`` (JSON) or ``form`` (form-encoded, as Slack's methods take it).
        """
        clean = {k: v for k, v in (params or {}).items() if v is not None}
        self._check(method, path, clean)
        retrying = AsyncRetrying(
            retry=retry_if_exception_type(_Retryable),
            stop=stop_after_attempt(self._retry.attempts),
            wait=_RetryAfterOrBackoff(self._retry),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    return await self._send(method, path.lstrip("/"), clean, json, form)
        except _Retryable as exc:
            raise PlatformError(
                f"{self.provider}: {method} {path} still failed after "
                f"{self._retry.attempts} attempts ({exc.reason}); try again later"
            ) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _check(self, method: str, path: str, params: Mapping[str, Any]) -> None:
        """Refuse a path that could leave ``api_base_url``, or a URL no server would take."""
        if _UNSAFE_PATH.search(path):
            raise PlatformError(
                f"{self.provider}: refused {method} {path[:100]!r}: an id in the path contains "
                "'..', '?', '#', a backslash or an escaped dot or slash"
            )
        # Before percent-encoding, so a lower bound: enough to stop a megabyte argument.
        length = len(self._base) + len(path)
        length += sum(len(str(key)) + len(str(value)) + 2 for key, value in params.items())
        if length > MAX_URL_LENGTH:
            raise PlatformError(
                f"{self.provider}: refused {method} {path[:100]!r}: the URL would be over "
                f"{MAX_URL_LENGTH} characters ({length}); use shorter arguments"
            )

    async def _authorization(self) -> str:
        if self._credentials is not None:
            return authorization(self._credentials, self._scheme)
        if self._token is not None:
            return authorization({"access_token": await self._token()}, self._scheme)
        from multichat.runtime.token_access import provider_auth

        credentials = await provider_auth(self.provider).arequire_credentials()
        return authorization(credentials, self._scheme)

    def held_for(self, method: str, path: str) -> float:
        """Seconds a request to ``path`` would wait now for an announced rate limit (0 if none)."""
        until = max(self._held_all, self._held.get(_route(method, path), 0.0))
        return max(0.0, until - time.monotonic())

    def _remember_limits(self, method: str, path: str, response: httpx2.Response) -> None:
        """Hold the route whose bucket is empty, or every route after a global 429."""
        headers, now = response.headers, time.monotonic()
        if response.status_code == 429 and is_global_limit(headers):
            wait = min(retry_after_seconds(headers) or 0.0, self._retry.max_retry_after)
            self._held_all = max(self._held_all, now + wait)
            return
        reset_after = parse_retry_after(headers.get(RESET_AFTER_HEADER))
        if headers.get(REMAINING_HEADER, "").strip() != "0" or reset_after is None:
            return
        if len(self._held) >= MAX_HELD_ROUTES:
            self._held = {route: until for route, until in self._held.items() if until > now}
            while len(self._held) >= MAX_HELD_ROUTES:
                del self._held[min(self._held, key=self._held.__getitem__)]
        self._held[_route(method, path)] = now + min(reset_after, self._retry.max_retry_after)

    async def _send(
        self, method: str, path: str, params: dict[str, Any], body: Any, form: Any
    ) -> Any:
        header = await self._authorization()
        # Waiting outside the semaphore: a held route does not take a slot from the others.
        pause = self.held_for(method, path)
        if pause > 0:
            await asyncio.sleep(pause)
        # An absolute URL (a platform's OIDC userinfo, say) is sent as it is, as httpx would.
        url = path if path.startswith(("https://", "http://")) else self._base + path
        if params:
            url += "?" + str(httpx2.QueryParams(params))
        async with self._limit:
            self.attempts_made += 1
            try:
                response = await self._http.request(
                    method,
                    url,
                    json=body,
                    data=form,
                    headers={"Authorization": header},
                )
            except httpx2.ConnectError as exc:
                raise _Retryable(f"could not connect: {type(exc).__name__}") from None
            except httpx2.TransportError as exc:
                reason = (
                    "timed out"
                    if isinstance(exc, httpx2.TimeoutException)
                    else (f"connection failed: {type(exc).__name__}")
                )
                if method.upper() not in IDEMPOTENT_METHODS:
                    raise PlatformError(
                        f"{self.provider}: {method} /{path} {reason}; it may or may not have "
                        "taken effect: check before trying again"
                    ) from None
                raise _Retryable(reason) from None
        self._remember_limits(method, path, response)
        retryable = (
            RETRYABLE_STATUS if method.upper() in IDEMPOTENT_METHODS else WRITE_RETRYABLE_STATUS
        )
        if response.status_code in retryable:
            reason = (
                "rate limited (HTTP 429)"
                if response.status_code == 429
                else (f"HTTP {response.status_code}")
            )
            raise _Retryable(reason, retry_after_seconds(response.headers))
        if response.status_code == 401:
            reason = _error_text(response)
            from multichat.runtime.token_access import provider_auth

            raise provider_auth(self.provider).signed_out(
                f"the platform rejected the token: {reason}"
            )
        if response.is_error:
            raise PlatformError(
                f"{self.provider}: {method} /{path} answered HTTP {response.status_code}: "
                f"{_error_text(response)}",
                response.status_code,
            )
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    async def get(self, path: str, **params: Any) -> Any:
        """GET ``path`` with query ``params`` (``None`` values are dropped)."""
        return await self.request("GET", path, params=params)

    async def post(self, path: str, body: Any = None, **params: Any) -> Any:
        """POST a JSON body."""
        return await self.request("POST", path, params=params, json=body)

    async def put(self, path: str, body: Any = None, **params: Any) -> Any:
        """PUT a JSON body."""
        return await self.request("PUT", path, params=params, json=body)

    async def patch(self, path: str, body: Any = None, **params: Any) -> Any:
        """PATCH with a JSON body."""
        return await self.request("PATCH", path, params=params, json=body)

    async def delete(self, path: str, **params: Any) -> Any:
        """DELETE ``path``."""
        return await self.request("DELETE", path, params=params)

    async def pages(
        self,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        items_key: str = "items",
        cursor_key: str = "next_cursor",
        cursor_param: str = "cursor",
        max_items: int | None = None,
    ) -> AsyncIterator[Any]:
        """Yield items across cursor-paginated pages, stopping at ``max_items`` if given."""
        query = dict(params or {})
        seen = 0
        while True:
            page = await self.get(path, **query)
            for item in _dig(page, items_key):
                yield item
                seen += 1
                if max_items is not None and seen >= max_items:
                    return
            cursor = _dig(page, cursor_key) if cursor_key else None
            if not cursor:
                return
            query[cursor_param] = cursor

    async def numbered_pages(
        self,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        items_key: str | None = None,
        page_param: str = "page",
        size_param: str = "per_page",
        size: int = 100,
        first: int = 0,
        offset: bool = False,
        max_items: int | None = None,
    ) -> AsyncIterator[Any]:
        """Yield items across numbered pages until a page comes back short.

        Pages are ``first, first+1, ...``, or with ``offset`` item offsets ``0, size, ...``.
        ``items_key`` names the list in each answer (a dotted path); None when the answer is
        the list itself.
        """
        query = {**(params or {}), size_param: size}
        number, seen = first, 0
        while True:
            query[page_param] = number * size if offset else number
            page = await self.get(path, **query)
            items = list(page if items_key is None else _dig(page, items_key))
            for item in items:
                yield item
                seen += 1
                if max_items is not None and seen >= max_items:
                    return
            if len(items) < size:
                return
            number += 1

    async def offset_pages(
        self,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        items_key: str | None = None,
        offset_param: str = "offset",
        limit_param: str = "limit",
        size: int = 100,
        max_items: int | None = None,
    ) -> AsyncIterator[Any]:
        """Yield items across pages addressed by item offset (``offset=0, 100, 200...``)."""
        async for item in self.numbered_pages(
            path,
            params=params,
            items_key=items_key,
            page_param=offset_param,
            size_param=limit_param,
            size=size,
            offset=True,
            max_items=max_items,
        ):
            yield item


#: Transports that tests put in front of a provider (:meth:`PlatformClient.faked`).
_test_transports: dict[str, httpx2.AsyncBaseTransport] = {}


def _shared_clear(provider: str) -> None:
    for clients in _shared.values():
        clients.pop(provider, None)


#: The shared client of each provider, per event loop (a pool belongs to one loop).
_shared: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, PlatformClient]] = (
    weakref.WeakKeyDictionary()
)


def _route(method: str, path: str) -> str:
    """The key a rate limit is held under: Discord's buckets are per route and method."""
    return f"{method.upper()} {path.lstrip('/')}"


def _dig(data: Any, dotted: str) -> Any:
    """``data["a"]["b"]`` for ``"a.b"``; an empty list when a step is missing."""
    for key in dotted.split("."):
        if not isinstance(data, Mapping) or key not in data:
            return []
        data = data[key]
    return data


def _error_text(response: httpx2.Response) -> str:
    """The platform's own error message where it gives one, trimmed to a line."""
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase or "error"
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            return str(error.get("message") or error.get("code") or "error")[:300]
        if isinstance(error, str) and error != "error":
            return str(body.get("error_description") or error)[:300]
        # Mattermost: message; Zulip: msg; RFC 9457 problem details: detail.
        return str(body.get("message") or body.get("msg") or body.get("detail") or "error")[:300]
    return "error"
