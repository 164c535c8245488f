"""What a platform preset implements: one adapter that the shared chat tools call.

A preset differs from another in one place (PRESETS.md): its adapter, a subclass of
:class:`ChatAdapter` in ``multichat.platforms``, turns each tool's call into the platform's
requests and its answers into the shared models of :mod:`multichat.chat.models`. Tools the
platform cannot serve are named by :meth:`ChatAdapter.unavailable` with the reason, and are
then absent rather than pretending. Text comes in as Markdown and goes out in the platform's
own format through :meth:`ChatAdapter.outgoing`, which also refuses it over the platform's
length limit before any request.
"""

from __future__ import annotations

import datetime
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import ClassVar

from multichat.chat.markup.limits import Limit, check_length
from multichat.chat.models import (
    CatchUp,
    ChannelKind,
    ChannelPage,
    ChatMessage,
    ChatThread,
    ChatUser,
    Deleted,
    MarkedRead,
    MessagePage,
    UserPage,
)
from multichat.chat.times import iso as iso
from multichat.chat.times import parse_time as parse_time
from multichat.errors import UserError
from multichat.runtime.platform_client import PlatformClient


class ChatAdapter(ABC):
    """One platform's side of the chat tools, bound to one provider of a workspace."""

    #: The preset's name (``slack``) and how people write it (``Slack``).
    platform: ClassVar[str]
    display_name: ClassVar[str]
    #: The most one message's text may hold, in the platform's own format.
    message_limit: ClassVar[Limit]
    #: Tools beyond the shared twelve that this platform serves (``mark_read``).
    extra_tools: ClassVar[frozenset[str]] = frozenset()
    #: Requests one tool call may have in flight (catch-up fans out across channels).
    max_concurrency: ClassVar[int] = 8
    #: Set where a channel message needs a topic (Zulip): ``send_message`` then takes a
    #: ``topic`` argument that this text describes, and calls :meth:`send_in_topic`.
    topic_argument: ClassVar[str | None] = None

    def __init__(self, provider: str) -> None:
        """Bind to ``provider``; nothing is read or connected until a tool is called."""
        self.provider = provider

    def __repr__(self) -> str:
        """Name the platform and provider."""
        return f"{type(self).__name__}({self.provider!r})"

    @property
    def api(self) -> PlatformClient:
        """The provider's shared HTTP client (its token, base URL, time-out, retries)."""
        return PlatformClient.for_provider(self.provider, max_concurrency=self.max_concurrency)

    def unavailable(self) -> Mapping[str, str]:
        """Tools this provider cannot serve, each with the reason ``provider_info`` gives."""
        return {}

    def to_platform(self, markdown: str) -> str:
        """Markdown from the model in the platform's own format (as is, by default)."""
        return markdown

    def outgoing(self, markdown: str) -> str:
        """The platform's text for ``markdown``, refused over the platform's limit.

        Raises:
            MessageTooLong: the text is over :attr:`message_limit`; nothing was sent.
        """
        text = self.to_platform(markdown)
        check_length(text, self.message_limit, self.display_name)
        return text

    # ---- the twelve jobs ----------------------------------------------------------------------

    @abstractmethod
    async def whoami(self) -> ChatUser:
        """The signed-in user (or bot)."""

    @abstractmethod
    async def list_channels(
        self, kinds: list[ChannelKind] | None, limit: int, cursor: str | None
    ) -> ChannelPage:
        """Channels the user can see, of ``kinds`` (all when None)."""

    @abstractmethod
    async def channel_history(
        self,
        channel_id: str,
        limit: int,
        cursor: str | None,
        oldest: datetime.datetime | None,
        latest: datetime.datetime | None,
    ) -> MessagePage:
        """Top-level messages of a channel, newest first, within the time window."""

    @abstractmethod
    async def thread(self, message_id: str, limit: int, cursor: str | None) -> ChatThread:
        """A thread's root message and its replies, oldest first."""

    @abstractmethod
    async def send(self, channel_id: str, text: str) -> ChatMessage:
        """Post ``text`` (Markdown) as a new top-level message."""

    async def send_in_topic(self, channel_id: str, text: str, topic: str | None) -> ChatMessage:
        """Post ``text`` under ``topic`` (platforms that set :attr:`topic_argument`)."""
        return await self.send(channel_id, text)

    @abstractmethod
    async def reply(self, message_id: str, text: str) -> ChatMessage:
        """Reply in the thread of ``message_id`` (the thread's root or any reply in it)."""

    @abstractmethod
    async def edit(self, message_id: str, text: str) -> ChatMessage:
        """Replace the text of one of the user's messages."""

    @abstractmethod
    async def delete(self, message_id: str) -> Deleted:
        """Delete one of the user's messages."""

    @abstractmethod
    async def react(self, message_id: str, emoji: str) -> ChatMessage:
        """Add an emoji reaction (a name without colons)."""

    @abstractmethod
    async def search(
        self, query: str, channel_id: str | None, limit: int, cursor: str | None
    ) -> MessagePage:
        """Messages matching ``query``, best first."""

    @abstractmethod
    async def users(self, limit: int, cursor: str | None) -> UserPage:
        """People and bots on the platform."""

    @abstractmethod
    async def mentions(self, limit: int, cursor: str | None) -> MessagePage:
        """Messages that mention the user, newest first."""

    @abstractmethod
    async def catch_up(self, per_channel: int, max_channels: int) -> CatchUp:
        """What is unread in each of the user's channels, with mentions first."""

    async def mark_read(self, channel_id: str) -> MarkedRead:
        """Mark a channel read up to its newest message (platforms with read markers)."""
        raise UserError(f"{self.display_name} has no read markers that multichat can set")
