"""The workspace's inbox: catch-up, mentions and search over every provider in one call each.

:func:`add_inbox_tools` serves ``inbox_catch_up``, ``inbox_mentions`` and ``inbox_search``
beside the providers' own tools, each only when two providers or more serve the chat tool it
fans out to. Every call asks the providers concurrently through their own tool calls
(:mod:`multichat.chat.inbox_calls`) and merges their answers (:mod:`multichat.chat.inbox_merge`);
a provider that cannot answer is listed under ``not_included`` with the fix.

Annotations are real objects here (no ``from __future__ import annotations``), as in
:mod:`multichat.chat.tools`: FastMCP reads them at start-up.
"""

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastmcp import FastMCP
from fastmcp.exceptions import ToolError
from fastmcp.tools import ToolResult
from pydantic import Field

from multichat.chat.inbox_calls import ToolCall, ask_providers
from multichat.chat.inbox_merge import Answer, Window, by_rank, channel_news, newest_first
from multichat.chat.inbox_models import InboxCatchUp, InboxMessage, InboxMessages, NotIncluded
from multichat.chat.models import CatchUp, MessagePage
from multichat.chat.times import parse_since
from multichat.errors import UserError
from multichat.runtime.dynamic import ALWAYS_LISTED
from multichat.runtime.loader import LoadReport
from multichat.runtime.toolsets import served_tools

logger = logging.getLogger(__name__)

#: Each inbox tool and the chat tool (``chat.tools.READERS``) it asks every provider for.
INBOX_TOOLS = {
    "inbox_catch_up": "catch_up",
    "inbox_mentions": "get_my_mentions",
    "inbox_search": "search_messages",
}
#: Providers that must serve a chat tool for its inbox tool to be served: with one, the inbox
#: would repeat that provider's own tool and cost the model a description on every request.
MIN_PROVIDERS = 2
#: Seconds each provider may take by default: well inside the minute MCP clients tend to wait.
DEFAULT_BUDGET = 20.0

Providers = Annotated[
    list[str] | None,
    Field(description="Only these providers (the prefix of their tools); all when omitted."),
]
Since = Annotated[
    str | None,
    Field(description="Only messages sent after this: an age (24h, 7d), ISO-8601 or Unix seconds."),
]
Until = Annotated[
    str | None, Field(description="Only messages sent before this (same forms as since).")
]
Limit = Annotated[int, Field(ge=1, le=200, description="How many items to return (1-200).")]
Budget = Annotated[
    float,
    Field(
        ge=1,
        le=120,
        description="Seconds each provider may take; slower ones are listed under not_included.",
    ),
]


@dataclass
class _Served:
    """Which providers serve each chat tool, and which have it but are configured to hide it."""

    serving: dict[str, list[str]] = field(default_factory=dict)
    hidden: dict[str, list[str]] = field(default_factory=dict)

    def choose(
        self, tool: str, wanted: Sequence[str] | None
    ) -> tuple[list[str], list[NotIncluded]]:
        """The providers to ask for ``tool`` (of ``wanted``, default all) and those left out."""
        serving = self.serving.get(tool, [])
        hidden = self.hidden.get(tool, [])
        asked = [name for name in serving if wanted is None or name in wanted]
        left = [
            NotIncluded(
                provider=name,
                reason=f"provider-config.yaml does not serve {name}_{tool}",
                fix=f"add {tool} to providers.{name}.enabled_tools in provider-config.yaml",
            )
            for name in hidden
            if wanted is None or name in wanted
        ]
        left += [
            NotIncluded(
                provider=name,
                reason=f"no provider named {name} serves {tool} here",
                fix=f"name one of: {', '.join(serving)}",
            )
            for name in dict.fromkeys(wanted or ())
            if name not in serving and name not in hidden
        ]
        return asked, left


def add_inbox_tools(server: FastMCP[Any], report: LoadReport) -> list[str]:
    """Serve the inbox tools whose chat tool two loaded providers serve; returns their names.

    A tool whose name a provider's own tool already has (a provider named ``inbox``) is left
    out, with a warning in the log.
    """
    served = _Served()
    taken: set[str] = set()
    for name, provider in sorted(report.providers.items()):
        allowed = served_tools(provider)
        taken.update(f"{name}_{tool}" for tool in provider.tools)
        for tool in INBOX_TOOLS.values():
            if tool in provider.tools:
                shown = allowed.allows(tool)
                (served.serving if shown else served.hidden).setdefault(tool, []).append(name)
    platforms: dict[str, str] = {}
    added: list[str] = []

    async def call(provider: str, tool: str, arguments: dict[str, Any]) -> ToolResult:
        return await report.providers[provider].mcp.call_tool(tool, arguments)

    for inbox_tool, function in _tools(call, served, platforms).items():
        if len(served.serving.get(INBOX_TOOLS[inbox_tool], [])) < MIN_PROVIDERS:
            continue
        if inbox_tool in taken:
            logger.warning(
                "%s is a provider's own tool here: the inbox's is not served", inbox_tool
            )
            continue
        server.tool(
            function,
            name=inbox_tool,
            annotations={"readOnlyHint": True, "idempotentHint": True},
            tags={ALWAYS_LISTED},  # listed from the start in dynamic mode too
            output_schema=None,  # as the chat tools: structured, schema not advertised
        )
        added.append(inbox_tool)
    return added


def _window(since: str | None, until: str | None) -> Window:
    """The time window of the arguments; a bad time is the model's to fix."""
    try:
        return Window(parse_since(since), parse_since(until))
    except UserError as exc:
        raise ToolError(str(exc)) from None


def _tools(call: ToolCall, served: _Served, platforms: dict[str, str]) -> dict[str, Any]:
    """The three inbox tool functions, calling providers' tools with ``call``."""

    async def messages(
        tool: str,
        arguments: dict[str, Any],
        merge: Callable[[list[Answer[MessagePage]], Window, int], list[InboxMessage]],
        providers: Sequence[str] | None,
        since: str | None,
        until: str | None,
        limit: int,
        budget: float,
    ) -> InboxMessages:
        """Ask every provider serving ``tool`` for a message page; ``merge`` orders the pages."""
        window = _window(since, until)
        asked, left = served.choose(tool, providers)
        answers, missing = await ask_providers(
            call,
            asked,
            tool,
            arguments,
            MessagePage.model_validate,
            budget=budget,
            platforms=platforms,
        )
        return InboxMessages(
            included=[answer.provider for answer in answers],
            not_included=sorted(left + missing, key=lambda item: item.provider),
            messages=merge(answers, window, limit),
        )

    async def inbox_catch_up(
        providers: Providers = None,
        since: Since = None,
        until: Until = None,
        limit: Annotated[
            int, Field(ge=1, le=200, description="At most this many channels (1-200).")
        ] = 20,
        per_channel: Annotated[
            int, Field(ge=1, le=50, description="Latest unread messages to include per channel.")
        ] = 5,
        timeout_seconds: Budget = DEFAULT_BUDGET,
    ) -> InboxCatchUp:
        """Catch up on every chat platform at once: what is new since the user last read.

        Asks each signed-in provider's catch_up concurrently and merges the channels: those
        that mention the user first, then the newest. Nothing is marked as read. Providers
        that could not answer are under not_included, with the fix. Every item names its
        provider: use its ids with that provider's own tools, e.g.
        PROVIDER_reply_to_thread(message_id=id). Example: {"since": "24h", "limit": 10}.
        """
        window = _window(since, until)
        asked, left = served.choose("catch_up", providers)
        answers, missing = await ask_providers(
            call,
            asked,
            "catch_up",
            {"per_channel": per_channel},
            CatchUp.model_validate,
            budget=timeout_seconds,
            platforms=platforms,
        )
        channels, notes = channel_news(answers, window)
        return InboxCatchUp(
            included=[answer.provider for answer in answers],
            not_included=sorted(left + missing, key=lambda item: item.provider),
            total_unread=sum(channel.unread_count for channel in channels),
            channels_with_news=len(channels),
            channels=channels[:limit],
            notes=notes,
        )

    async def inbox_mentions(
        providers: Providers = None,
        since: Since = None,
        until: Until = None,
        limit: Limit = 20,
        timeout_seconds: Budget = DEFAULT_BUDGET,
    ) -> InboxMessages:
        """List messages that @mention the user on every chat platform, newest first.

        Use it to answer "what do people need from me, everywhere?". Providers that could not
        answer are under not_included, with the fix. Every item names its provider: use its
        ids with that provider's own tools, e.g. PROVIDER_reply_to_thread(message_id=id).
        Example: {"since": "7d", "limit": 10}.
        """
        return await messages(
            "get_my_mentions", {"limit": limit}, newest_first, providers, since, until, limit,
            timeout_seconds,
        )  # fmt: skip

    async def inbox_search(
        query: Annotated[str, Field(min_length=1, max_length=500, description="Words to find.")],
        providers: Providers = None,
        since: Since = None,
        until: Until = None,
        limit: Limit = 20,
        timeout_seconds: Budget = DEFAULT_BUDGET,
    ) -> InboxMessages:
        """Search messages on every chat platform at once.

        Each platform's best match comes first, then each one's second, and so on (platforms
        rank differently, so ranks are interleaved). Providers that could not answer are under
        not_included, with the fix. Every item names its provider: use its ids with that
        provider's own tools, e.g. PROVIDER_get_thread(message_id=id).
        Example: {"query": "postmortem", "since": "30d"}.
        """
        return await messages(
            "search_messages", {"query": query, "limit": limit}, by_rank, providers, since,
            until, limit, timeout_seconds,
        )  # fmt: skip

    return {
        "inbox_catch_up": inbox_catch_up,
        "inbox_mentions": inbox_mentions,
        "inbox_search": inbox_search,
    }
