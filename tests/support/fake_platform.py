"""A fake chat platform for tests: canned replies per operation, every exchange checked.

    fake = FakePlatform("discord")
    fake.on("list_messages", [message])                    # JSON, with the spec's success status
    fake.on("create_message", lambda request: {**message, "content": request.body["content"]})
    fake.on("guild_search", fake.rate_limited(), page)     # in order; the last one repeats
    async with httpx2.AsyncClient(transport=fake.transport(), base_url=fake.base_url) as http:
        ...
    fake.assert_clean()

Every request goes through the platform description's ``validate_request`` and every reply
through ``check_response`` (``platform_specs``). A request the description refuses is answered
HTTP 400 and its :class:`SpecViolation` kept; so is a reply it refuses (the code under test
stops at once instead of reading a bad fixture). A request to an operation with no reply
registered, or whose handler raised, is answered HTTP 501, which no client retries, and kept as
:class:`UnexpectedRequest`. :meth:`FakePlatform.assert_clean` raises what was kept; leaving
``with fake:`` and the ``fake_platform`` fixture's teardown call it.

The same fake runs in-process (:meth:`FakePlatform.transport`, for ``PlatformClient(transport=)``
or ``httpx2.AsyncClient``), as an ASGI app (:meth:`FakePlatform.asgi_app`), or on a real socket
on 127.0.0.1 (:meth:`FakePlatform.serve`) for ``multichat run`` in a subprocess.
"""

from __future__ import annotations

import inspect
import json
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

import httpx2

from .platform_specs import SpecViolation, load_spec

if TYPE_CHECKING:
    from fastapi import FastAPI

_NO_JSON: Any = object()
HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


@dataclass(frozen=True)
class Reply:
    """A canned reply. ``status=None`` means the operation's success status in the description
    (201 for Mattermost's CreatePost, 200 mostly); ``json`` or ``text`` is the body."""

    json: Any = _NO_JSON
    status: int | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    text: str | None = None

    def encode(self, default_status: int) -> tuple[int, dict[str, str], bytes]:
        """Status, headers and body bytes as they go on the wire."""
        headers = dict(self.headers)
        names = {name.lower() for name in headers}
        body = b""
        if self.json is not _NO_JSON:
            body = json.dumps(self.json).encode()
            if "content-type" not in names:
                headers["Content-Type"] = "application/json"
        elif self.text is not None:
            body = self.text.encode()
            if "content-type" not in names:
                headers["Content-Type"] = "text/plain; charset=utf-8"
        return self.status or default_status, headers, body


@dataclass(frozen=True)
class RecordedRequest:
    """A request the fake received, decoded as far as the description allowed."""

    method: str
    url: str
    headers: Mapping[str, str]
    content: bytes
    #: None when the description refused the request before an operation was known.
    operation_id: str | None
    path_params: Mapping[str, Any] = field(default_factory=dict)
    #: Query parameters (Slack: every argument, from query, form or JSON), decoded.
    arguments: Mapping[str, Any] = field(default_factory=dict)
    #: The decoded JSON or form body, or None.
    body: Any = None

    @property
    def path(self) -> str:
        """The URL path."""
        return urlsplit(self.url).path

    @property
    def query(self) -> list[tuple[str, str]]:
        """The raw query pairs, in order."""
        return parse_qsl(urlsplit(self.url).query, keep_blank_values=True)


#: ``(request) -> Reply | JSON``, or a coroutine function giving one.
Handler = Callable[[RecordedRequest], Any]


class UnexpectedRequest(AssertionError):
    """A request the test did not prepare a reply for, or whose handler failed."""


class FakePlatformFailures(AssertionError):
    """More than one failure kept by one fake; ``failures`` lists them."""

    def __init__(self, platform: str, failures: list[AssertionError]) -> None:
        self.failures = list(failures)
        text = "\n\n".join(str(failure) for failure in failures)
        super().__init__(f"{platform}: {len(failures)} failures in the fake platform:\n\n{text}")


class _Script:
    """The replies of one operation, used in order; the last one repeats."""

    def __init__(self, replies: tuple[Reply | Handler | Any, ...]) -> None:
        self._replies = replies
        self._next = 0
        self._lock = threading.Lock()

    async def reply(self, request: RecordedRequest) -> Reply:
        with self._lock:
            item = self._replies[min(self._next, len(self._replies) - 1)]
            self._next += 1
        if callable(item):
            item = item(request)
            if inspect.isawaitable(item):
                item = await item
        return item if isinstance(item, Reply) else Reply(json=item)


class FakePlatform:
    """A fake of one platform whose every exchange is checked against its API description."""

    def __init__(self, platform: str) -> None:
        self.platform = platform
        self.spec = load_spec(platform)
        self.requests: list[RecordedRequest] = []
        self.failures: list[AssertionError] = []
        self._scripts: dict[str, _Script] = {}

    @property
    def base_url(self) -> str:
        """The platform's API base URL as its description gives it (``https://slack.com/api``);
        an in-process transport answers on any host."""
        return self.spec.base_url

    def on(self, operation_id: str, *replies: Reply | Handler | Any) -> FakePlatform:
        """Reply to ``operation_id`` with ``replies`` in order, the last one repeating.

        Each is a :class:`Reply`, a JSON value (sent with the success status), or a handler
        ``(RecordedRequest) -> Reply | JSON`` (may be async).
        """
        self.spec.operation(operation_id)
        if not replies:
            raise ValueError(f"fake.on({operation_id!r}) needs at least one reply")
        self._scripts[operation_id] = _Script(replies)
        return self

    def calls(self, operation_id: str) -> list[RecordedRequest]:
        """The requests received for one operation, in order."""
        return [request for request in self.requests if request.operation_id == operation_id]

    def rate_limited(self, retry_after: int = 0) -> Reply:
        """The platform's own 429 with ``Retry-After`` (seconds)."""
        return _RATE_LIMITED[self.platform](retry_after)

    def token_rejected(self) -> Reply:
        """The platform's answer to an expired or revoked token."""
        return _TOKEN_REJECTED[self.platform]

    def assert_clean(self) -> None:
        """Raise what the fake kept: the one failure, or :class:`FakePlatformFailures`."""
        if len(self.failures) == 1:
            raise self.failures[0]
        if self.failures:
            raise FakePlatformFailures(self.platform, self.failures)

    def __enter__(self) -> FakePlatform:
        """Use as ``with FakePlatform(...) as fake:``; leaving checks :meth:`assert_clean`."""
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Raise the kept failures unless the block already raised."""
        if kind is None:
            self.assert_clean()

    async def handle(
        self, method: str, url: str, headers: Mapping[str, str], content: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        """One exchange: check the request, pick the reply, check the reply."""
        lowered = {name.lower(): value for name, value in headers.items()}
        try:
            checked = self.spec.validate_request(method, url, headers=lowered, body=content)
        except SpecViolation as violation:
            self.requests.append(
                RecordedRequest(method, url, lowered, content, violation.operation_id)
            )
            self.failures.append(violation)
            return _refusal(400, "request", violation)
        request = RecordedRequest(
            method,
            url,
            lowered,
            content,
            checked.operation_id,
            checked.path_params,
            checked.arguments,
            checked.body,
        )
        self.requests.append(request)
        script = self._scripts.get(checked.operation_id)
        if script is None:
            failure = UnexpectedRequest(
                f"{self.platform}: {method} {request.path} calls {checked.operation_id}, which "
                f"has no reply: fake.on({checked.operation_id!r}, ...)"
            )
            self.failures.append(failure)
            return _refusal(501, "request", failure)
        try:
            reply = await script.reply(request)
        except Exception as exc:  # the boundary: a broken handler fails the test, not the server
            failure = UnexpectedRequest(
                f"{self.platform}: the handler for {checked.operation_id} raised {exc!r}"
            )
            failure.__cause__ = exc
            self.failures.append(failure)
            return _refusal(501, "handler", failure)
        status, reply_headers, body = reply.encode(checked.operation.success_status)
        try:
            self.spec.check_response(checked.operation_id, status, body, reply_headers)
        except SpecViolation as violation:
            self.failures.append(violation)
            return _refusal(400, "reply", violation)
        return status, reply_headers, body

    def transport(self) -> httpx2.MockTransport:
        """An in-process transport for ``httpx2.AsyncClient`` or ``PlatformClient``."""

        async def exchange(request: httpx2.Request) -> httpx2.Response:
            status, headers, body = await self.handle(
                request.method, str(request.url), request.headers, request.content
            )
            return httpx2.Response(status, headers=headers, content=body)

        return httpx2.MockTransport(exchange)

    def asgi_app(self) -> FastAPI:
        """The fake as an ASGI app: every path and method goes to :meth:`handle`."""
        from fastapi import FastAPI, Request, Response

        app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

        async def endpoint(request: Request) -> Response:
            # raw_path keeps percent-escapes (an encoded slash) that scope["path"] decodes.
            raw_path = request.scope.get("raw_path") or request.url.path.encode()
            query = request.scope.get("query_string", b"").decode("latin-1")
            url = raw_path.decode("latin-1") + (f"?{query}" if query else "")
            status, headers, body = await self.handle(
                request.method, url, request.headers, await request.body()
            )
            return Response(body, status_code=status, headers=headers)

        app.add_route("/{path:path}", endpoint, methods=list(HTTP_METHODS))
        return app

    @contextmanager
    def serve(self) -> Iterator[str]:
        """Serve the fake on 127.0.0.1 (a free port) in a thread; yields the API base URL
        (``http://127.0.0.1:PORT/api/v10`` for Discord). Stops when the block ends."""
        from multichat.sandbox.server import SandboxServer

        with SandboxServer(app=self.asgi_app()) as server:
            yield server.url + self.spec.base_path


def _refusal(status: int, what: str, failure: AssertionError) -> tuple[int, dict[str, str], bytes]:
    body = {"fake_platform": f"the {what} was refused", "reason": str(failure)}
    return status, {"Content-Type": "application/json"}, json.dumps(body).encode()


# ---- each platform's own answers to a rate limit and to a bad token ---------------------------


def _slack_rate_limited(seconds: int) -> Reply:
    # https://docs.slack.dev/apis/web-api/rate-limits: HTTP 429 with Retry-After;
    # the body's `ratelimited` is in every method page's Errors table.
    return Reply({"ok": False, "error": "ratelimited"}, 429, {"Retry-After": str(seconds)})


def _discord_rate_limited(seconds: int) -> Reply:
    # https://discord.com/developers/docs/topics/rate-limits#exceeding-a-rate-limit; the
    # description's RatelimitedResponse also requires `code`, which the docs' example omits.
    body = {"message": "You are being rate limited.", "retry_after": float(seconds)}
    headers = {
        "Retry-After": str(seconds),
        "X-RateLimit-Limit": "5",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset-After": f"{float(seconds)}",
        "X-RateLimit-Bucket": "fake-bucket",
        "X-RateLimit-Scope": "user",
    }
    return Reply({**body, "global": False, "code": 0}, 429, headers)


def _mattermost_rate_limited(seconds: int) -> Reply:
    # introduction.yaml, tag "rate limiting": 429, X-Ratelimit-* headers, "limit exceeded".
    headers = {
        "Retry-After": str(seconds),
        "X-Ratelimit-Limit": "10",
        "X-Ratelimit-Remaining": "0",
        "X-Ratelimit-Reset": str(seconds),
    }
    return Reply(status=429, headers=headers, text="limit exceeded\n")


def _google_rate_limited(seconds: int) -> Reply:
    # https://cloud.google.com/apis/design/errors#http_mapping: 429 is RESOURCE_EXHAUSTED.
    body = {"error": {"code": 429, "message": "Quota exceeded.", "status": "RESOURCE_EXHAUSTED"}}
    return Reply(body, 429, {"Retry-After": str(seconds)})


_RATE_LIMITED: dict[str, Callable[[int], Reply]] = {
    "slack": _slack_rate_limited,
    "discord": _discord_rate_limited,
    "mattermost": _mattermost_rate_limited,
    "google_chat": _google_rate_limited,
}
_TOKEN_REJECTED: dict[str, Reply] = {
    # Slack answers HTTP 200; invalid_auth / token_expired / token_revoked are common errors.
    "slack": Reply({"ok": False, "error": "invalid_auth"}),
    # https://discord.com/developers/docs/topics/opcodes-and-status-codes#http
    "discord": Reply({"message": "401: Unauthorized", "code": 0}, 401),
    # introduction.yaml, tag "errors": the AppError body.
    "mattermost": Reply(
        {
            "id": "api.context.session_expired.app_error",
            "message": "Invalid or expired session, please login again.",
            "request_id": "fakerequestid",
            "status_code": 401,
        },
        401,
    ),
    # https://cloud.google.com/apis/design/errors#http_mapping: 401 is UNAUTHENTICATED.
    "google_chat": Reply(
        {
            "error": {
                "code": 401,
                "message": "Request had invalid authentication credentials.",
                "status": "UNAUTHENTICATED",
            }
        },
        401,
    ),
}
