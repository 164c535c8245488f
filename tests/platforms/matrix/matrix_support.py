"""What the Matrix tests share besides fixtures: provider names, the writer's rooms, calls."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from support.synapse import MatrixUser

READER = "mx"
WRITER = "mxw"
V3 = "/_matrix/client/v3"


@dataclass(frozen=True)
class WriterRooms:
    """The writer's own account and rooms, for tests that change things."""

    writer: MatrixUser
    friend: MatrixUser
    token: str
    scratch: str
    quiet: str
    vault: str


@asynccontextmanager
async def mcp(workspace: Path) -> AsyncIterator[Any]:
    """A real MCP client, in memory, on the workspace's server."""
    from helpers import connect

    async with connect(workspace) as client:
        yield client


async def call(client: Any, provider: str, tool: str, **arguments: Any) -> Any:
    """Call ``provider_tool`` and return its structured result."""
    result = await client.call_tool(f"{provider}_{tool}", arguments)
    return result.structured_content


def event_ids(page: dict[str, Any]) -> list[str]:
    """The event ids of a page's messages (message ids are ``room/event``)."""
    return [item["id"].partition("/")[2] for item in page["messages"]]


class ProxyTransport:
    """Forwards requests to the real homeserver, recording them; ``fault`` may answer instead.

    ``fault(method, path, attempt)`` returns None to forward, ``("instead", status, headers)``
    to answer without forwarding, or ``("after", status, headers)`` to forward and then answer
    with that status anyway (the homeserver acted, but its answer was lost).
    """

    def __init__(self, fault: Any = None) -> None:
        import httpx2

        self._inner = httpx2.AsyncHTTPTransport()
        self._fault = fault
        self.requests: list[tuple[str, str]] = []

    async def handle_async_request(self, request: Any) -> Any:
        import httpx2

        method, path = request.method, request.url.raw_path.decode().split("?")[0]
        self.requests.append((method, path))
        fault = self._fault(method, path, len(self.requests)) if self._fault else None
        if fault is not None and fault[0] == "instead":
            return httpx2.Response(fault[1], headers=fault[2], json={"errcode": "M_TEST"})
        response = await self._inner.handle_async_request(request)
        if fault is not None and fault[0] == "after":
            await response.aread()
            await response.aclose()
            return httpx2.Response(fault[1], headers=fault[2], json={"errcode": "M_TEST"})
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


def bare_adapter(
    monkeypatch: Any, provider: str, base_url: str, token: str, transport: Any = None
) -> Any:
    """The Matrix adapter of ``provider`` on a client of its own (optionally through a proxy)."""
    from multichat.platforms.matrix import Adapter
    from multichat.runtime import PlatformClient, RetryPolicy

    client = PlatformClient(
        provider,
        base_url,
        credentials={"access_token": token},
        timeout=30,
        retry=RetryPolicy(initial_backoff=0.01, max_backoff=0.05),
        transport=transport,
    )
    monkeypatch.setattr(Adapter, "api", property(lambda self: client))
    return Adapter(provider)
