"""The floor under our Slack preset: a bare FastMCP server making the same Slack requests.

``python -m bench.slack_floor_server`` serves three tools over stdio, each one Web API GET with a
kept-alive httpx client (``HTTPS_PROXY``/``SSL_CERT_FILE`` honoured, as ours does) whose JSON
answer is returned as text, untouched: what the reference server does, on FastMCP instead of
Node. Beside ours in ``bench.slack_peers`` it shows how much of a call is FastMCP and httpx
and how much is the preset (names, Markdown, result models, the platform client's retries).
With ``--multichat-stdio`` the same tools are served on multichat's stdio transport and uvloop,
as ``multichat run`` serves: the floor under ours with FastMCP's own stdio taken out.
"""

from __future__ import annotations

import os
from typing import Any

import httpx2
from fastmcp import FastMCP

server: FastMCP[Any] = FastMCP("slack-floor")
_client: httpx2.AsyncClient | None = None


async def _get(method: str, **params: Any) -> str:
    global _client
    if _client is None:
        token = os.environ["SLACK_TOKEN"]
        _client = httpx2.AsyncClient(
            base_url="https://slack.com/api/", headers={"Authorization": f"Bearer {token}"}
        )
    response = await _client.get(method, params=params)
    return response.text


@server.tool
async def slack_list_channels(limit: int = 100) -> str:
    """conversations.list, Slack's answer as it came."""
    return await _get("conversations.list", limit=limit, types="public_channel")


@server.tool
async def slack_get_channel_history(channel_id: str, limit: int = 20) -> str:
    """conversations.history, Slack's answer as it came."""
    return await _get("conversations.history", channel=channel_id, limit=limit)


@server.tool
async def slack_search_messages(query: str, limit: int = 20) -> str:
    """search.messages, Slack's answer as it came."""
    return await _get("search.messages", query=query, count=limit)


if __name__ == "__main__":
    import sys

    if "--multichat-stdio" in sys.argv:  # the least a server on multichat's transport can do
        import anyio

        from multichat.runtime.stdio import serve_stdio

        anyio.run(serve_stdio, server, backend_options={"use_uvloop": True})
    else:
        server.run(show_banner=False)
