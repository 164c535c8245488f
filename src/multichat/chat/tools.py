"""The chat tool set, defined once for every preset and served through a provider's adapter.

:func:`register_chat_tools` registers the tools on one provider through its ``tool``
decorator (so ``read_only``, ``enabled_tools``, time-outs and the registry apply as to any
tool): the twelve jobs every platform offers, ``mark_read`` where the adapter has read
markers, and ``provider_info`` and ``whoami``. A tool the adapter calls unavailable is left
out, and ``provider_info`` says why. Docstrings are written for the model that calls them.

Annotations are real objects here (no ``from __future__ import annotations``): FastMCP reads
them for every tool at start-up, and evaluating strings made that a third slower.

What ``tools/list`` shows is paid in every conversation's context (docs/context.md): optional
arguments are ``X | SkipJsonSchema[None]`` (``{"type": "string"}``, not an ``anyOf`` with
null; leaving one out is how a model says "none"), and the results' schemas are advertised
only where the provider sets ``output_schemas: true``. Results stay structured either way.
"""

import inspect
from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import Field
from pydantic.json_schema import SkipJsonSchema

from multichat.chat.adapter import ChatAdapter, parse_time
from multichat.chat.models import (
    CatchUp,
    ChannelPage,
    ChatMessage,
    ChatThread,
    ChatUser,
    Deleted,
    MarkedRead,
    MessagePage,
    UserPage,
)
from multichat.chat.tool_results import returning_tool_results
from multichat.runtime.config import provider_settings
from multichat.runtime.provider_info import describe_provider
from multichat.runtime.registry import ToolDecorator

#: The twelve jobs every chat preset offers, readers then writers (PRESETS.md).
READERS = (
    "list_channels",
    "get_channel_history",
    "get_thread",
    "search_messages",
    "list_users",
    "get_my_mentions",
    "catch_up",
)
WRITERS = ("send_message", "reply_to_thread", "edit_message", "delete_message", "add_reaction")
CHAT_TOOLS = READERS + WRITERS

Limit = Annotated[int, Field(ge=1, le=200, description="How many items to return (1-200).")]
Cursor = Annotated[
    str | SkipJsonSchema[None],
    Field(description="next_cursor from the previous page; omit for the first page."),
]
#: Above every platform's own limit (the adapter checks that one, in the platform's format):
#: it only stops a huge argument before any work is done on it.
Text = Annotated[
    str, Field(min_length=1, max_length=100_000, description="The message, in Markdown.")
]
MessageId = Annotated[str, Field(description="A message id, as other tools return it.")]
ChannelId = Annotated[str, Field(description="A channel id, as list_channels returns it.")]
Time = Annotated[str | SkipJsonSchema[None], Field(description="ISO-8601 or Unix seconds.")]
# Every argument's type is a constant here, not written inline: each provider's tools are
# new closures of the same code, and constants let their schemas be recognised as the same
# at a glance (runtime/tool_schemas.py) instead of compared field by field.
Oldest = Annotated[Time, Field(description="Only messages after this time.")]
Latest = Annotated[Time, Field(description="Only messages before this time.")]
ChannelKinds = Annotated[
    list[Literal["public", "private", "direct", "group"]] | SkipJsonSchema[None],
    Field(description="Kinds of channel to include; all kinds when omitted."),
]
RootId = Annotated[str, Field(description="The id of the thread's root message.")]
Query = Annotated[str, Field(min_length=1, max_length=500, description="Words to find.")]
SearchChannel = Annotated[
    str | SkipJsonSchema[None], Field(description="Search only this channel; all when omitted.")
]
PerChannel = Annotated[
    int, Field(ge=1, le=50, description="Latest unread messages to include per channel.")
]
MaxChannels = Annotated[
    int, Field(ge=1, le=200, description="At most this many of the user's channels.")
]
Emoji = Annotated[
    str,
    Field(pattern=r"^[a-z0-9_+\-]{1,64}$", description="Emoji name without colons, e.g. thumbsup."),
]


def register_chat_tools(tool: ToolDecorator, adapter: ChatAdapter) -> list[str]:
    """Register the chat tools of ``adapter``'s provider; returns the names registered."""
    absent = dict(adapter.unavailable())
    wanted = {*CHAT_TOOLS, *adapter.extra_tools, "provider_info", "whoami"} - set(absent)
    registered: list[str] = []
    settings = provider_settings(adapter.provider)
    # FastMCP infers a schema from the return type unless told None (its "no schema").
    schema_options = (
        {} if settings is not None and settings.output_schemas else {"output_schema": None}
    )

    def add(
        name: str,
        *,
        read_only: bool,
        destructive: bool | None = None,
        idempotent: bool | None = None,
    ) -> Callable[[Callable[..., Any]], Any]:
        def register(function: Callable[..., Any]) -> Any:
            if name in wanted:
                decorate = tool(
                    name=name,
                    read_only=read_only,
                    destructive=destructive,
                    idempotent=idempotent,
                    **schema_options,
                )
                served = function
                if inspect.iscoroutinefunction(function):
                    served = returning_tool_results(function)
                decorate(served)
                registered.append(name)
            return function

        return register

    @add("provider_info", read_only=True, idempotent=True)
    def provider_info() -> dict[str, Any]:
        """Describe this chat provider: its platform, settings, sign-in state, missing tools.

        Use it first, to check the provider is configured and signed in. Never returns a token.
        Example result: {"provider": "slack", "platform": "Slack", "authenticated": true}
        """
        return {
            **describe_provider(adapter.provider),
            "platform": adapter.display_name,
            "unavailable_tools": absent,
        }

    @add("whoami", read_only=True, idempotent=True)
    async def whoami() -> ChatUser:
        """Ask the platform who the signed-in user (or bot) is: confirms that calls work."""
        return await adapter.whoami()

    @add("list_channels", read_only=True, idempotent=True)
    async def list_channels(
        types: ChannelKinds = None,
        limit: Limit = 100,
        cursor: Cursor = None,
    ) -> ChannelPage:
        """List the channels the user can see, with whether they are a member.

        Use it to find a channel's id before reading or posting. Example: {"types": ["public"]}.
        """
        return await adapter.list_channels(list(types) if types else None, limit, cursor)

    @add("get_channel_history", read_only=True, idempotent=True)
    async def get_channel_history(
        channel_id: ChannelId,
        limit: Limit = 20,
        cursor: Cursor = None,
        oldest: Oldest = None,
        latest: Latest = None,
    ) -> MessagePage:
        """Read a channel's recent top-level messages, newest first; replies are in threads.

        Use oldest/latest (ISO-8601 or Unix seconds) for a time window, cursor for older pages.
        Example: {"channel_id": "C01", "limit": 10, "oldest": "2025-06-05T00:00:00Z"}.
        """
        return await adapter.channel_history(
            channel_id, limit, cursor, parse_time(oldest), parse_time(latest)
        )

    @add("get_thread", read_only=True, idempotent=True)
    async def get_thread(
        message_id: RootId,
        limit: Limit = 50,
        cursor: Cursor = None,
    ) -> ChatThread:
        """Read a whole thread: the root message and its replies, oldest first.

        Use it when a message has replies (reply_count > 0). Example: {"message_id": "M322"}.
        """
        return await adapter.thread(message_id, limit, cursor)

    @add("search_messages", read_only=True, idempotent=True)
    async def search_messages(
        query: Query,
        channel_id: SearchChannel = None,
        limit: Limit = 20,
        cursor: Cursor = None,
    ) -> MessagePage:
        """Search messages by words, best matches first, across the channels the user can see.

        Example: {"query": "postmortem"} or {"query": "deploy", "channel_id": "C02"}.
        """
        return await adapter.search(query, channel_id, limit, cursor)

    @add("list_users", read_only=True, idempotent=True)
    async def list_users(limit: Limit = 100, cursor: Cursor = None) -> UserPage:
        """List the people and bots on the platform with their ids and usernames.

        Use it to resolve a name to an id or to @mention someone. Example: {"limit": 50}.
        """
        return await adapter.users(limit, cursor)

    @add("get_my_mentions", read_only=True, idempotent=True)
    async def get_my_mentions(limit: Limit = 20, cursor: Cursor = None) -> MessagePage:
        """List recent messages that @mention the user, newest first.

        Use it to answer "what do people need from me?". Example: {"limit": 10}.
        """
        return await adapter.mentions(limit, cursor)

    @add("catch_up", read_only=True, idempotent=True)
    async def catch_up(
        per_channel: PerChannel = 5,
        max_channels: MaxChannels = 50,
    ) -> CatchUp:
        """Summarise what is new since the user last read each channel they are in.

        Channels are checked concurrently; those with mentions of the user come first, then the
        busiest. Nothing is marked as read. Example: {"per_channel": 3}.
        """
        return await adapter.catch_up(per_channel, max_channels)

    @add("mark_read", read_only=False, destructive=False, idempotent=True)
    async def mark_read(channel_id: ChannelId) -> MarkedRead:
        """Mark a channel as read up to its newest message (after catching up on it).

        Example: {"channel_id": "C01"}.
        """
        return await adapter.mark_read(channel_id)

    if adapter.topic_argument is None:

        @add("send_message", read_only=False, destructive=False)
        async def send_message(channel_id: ChannelId, text: Text) -> ChatMessage:
            """Post a new top-level message in a channel the user is a member of.

            Only send what the user asked for. Write Markdown; mention someone with @username.
            Example: {"channel_id": "C01", "text": "Deploy is **done** @grace"}.
            """
            return await adapter.send(channel_id, text)

    else:

        @add("send_message", read_only=False, destructive=False)
        async def send_message_in_topic(
            channel_id: ChannelId,
            text: Text,
            topic: Annotated[
                str | SkipJsonSchema[None],
                Field(min_length=1, description=adapter.topic_argument),
            ] = None,
        ) -> ChatMessage:
            """Post a new message in a channel the user is a member of, under a topic.

            Every channel message on this platform belongs to a topic: give one (an existing
            topic continues it, a new one starts it). Only send what the user asked for.
            Example: {"channel_id": "12", "topic": "deploys", "text": "Deploy is **done**"}.
            """
            return await adapter.send_in_topic(channel_id, text, topic)

    @add("reply_to_thread", read_only=False, destructive=False)
    async def reply_to_thread(message_id: MessageId, text: Text) -> ChatMessage:
        """Reply in the thread of a message (the reply joins the root's thread).

        Example: {"message_id": "M322", "text": "Looking at it now"}.
        """
        return await adapter.reply(message_id, text)

    @add("edit_message", read_only=False, destructive=True, idempotent=True)
    async def edit_message(message_id: MessageId, text: Text) -> ChatMessage:
        """Replace the text of one of the user's own messages.

        Example: {"message_id": "M460", "text": "Deploy is done (for real)"}.
        """
        return await adapter.edit(message_id, text)

    @add("delete_message", read_only=False, destructive=True, idempotent=False)
    async def delete_message(message_id: MessageId) -> Deleted:
        """Delete one of the user's own messages. Ask the user first.

        Example: {"message_id": "M460"}.
        """
        return await adapter.delete(message_id)

    @add("add_reaction", read_only=False, destructive=False, idempotent=True)
    async def add_reaction(
        message_id: MessageId,
        emoji: Emoji,
    ) -> ChatMessage:
        """Add an emoji reaction to a message; adding the same one again changes nothing.

        Example: {"message_id": "M322", "emoji": "eyes"}.
        """
        return await adapter.react(message_id, emoji)

    return registered
