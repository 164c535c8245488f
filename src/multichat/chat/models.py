"""What the chat tools return, for every platform: compact, structured, ids beside names.

One definition for every preset (PRESETS.md: an agent that learned one platform's tools uses
every other platform's unchanged). Message text is untrusted chat content: build messages
with :func:`message`, which marks it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from multichat.runtime.untrusted import NOTICE as UNTRUSTED_NOTICE
from multichat.runtime.untrusted import mark_untrusted

ChannelKind = Literal["public", "private", "direct", "group"]


class ChatUser(BaseModel):
    """A person or bot on the platform."""

    id: str
    username: str
    name: str
    is_bot: bool = False


class ChatChannel(BaseModel):
    """A channel (or room, space, stream, chat) the user can see."""

    id: str
    name: str
    kind: ChannelKind
    topic: str = ""
    is_member: bool
    member_count: int | None = None
    last_message_at: str | None = None


class ChatMessage(BaseModel):
    """One message. ``text`` is untrusted chat content, delimited as such."""

    id: str
    channel_id: str
    channel_name: str
    author_id: str
    author: str
    sent_at: str
    edited: bool = False
    thread_id: str | None = Field(
        default=None, description="The thread's root message id when this is a reply."
    )
    reply_count: int = 0
    reactions: dict[str, int] = Field(default_factory=dict)
    text: str


class MessagePage(BaseModel):
    """Messages and the cursor of the next page (null at the end)."""

    notice: str = UNTRUSTED_NOTICE
    messages: list[ChatMessage]
    next_cursor: str | None = None


class ChannelPage(BaseModel):
    """Channels and the cursor of the next page."""

    channels: list[ChatChannel]
    next_cursor: str | None = None


class UserPage(BaseModel):
    """Users and the cursor of the next page."""

    users: list[ChatUser]
    next_cursor: str | None = None


class ChatThread(BaseModel):
    """A thread: its root message and replies, oldest first."""

    notice: str = UNTRUSTED_NOTICE
    root: ChatMessage
    replies: list[ChatMessage]
    next_cursor: str | None = None


class ChannelNews(BaseModel):
    """What is new in one channel since the user last read it."""

    channel_id: str
    channel_name: str
    unread_count: int
    mentions_of_me: int = Field(description="Mentions of the user among the messages shown.")
    latest: list[ChatMessage]


class CatchUp(BaseModel):
    """What is new across every channel the user is in, busiest first."""

    notice: str = UNTRUSTED_NOTICE
    channels_checked: int
    total_unread: int
    channels: list[ChannelNews]
    note: str = Field(default="", description="How this platform knows what is unread.")


class Deleted(BaseModel):
    """The outcome of a deletion."""

    message_id: str
    deleted: bool


class MarkedRead(BaseModel):
    """A channel marked as read up to its newest message."""

    channel_id: str
    marked_read: bool


def message(
    *,
    id: str,
    channel_id: str,
    channel_name: str,
    author_id: str,
    author: str,
    sent_at: str,
    text: str,
    edited: bool = False,
    thread_id: str | None = None,
    reply_count: int = 0,
    reactions: dict[str, int] | None = None,
) -> ChatMessage:
    """A :class:`ChatMessage` whose Markdown ``text`` is marked as untrusted content."""
    return ChatMessage(
        id=id,
        channel_id=channel_id,
        channel_name=channel_name,
        author_id=author_id,
        author=author,
        sent_at=sent_at,
        edited=edited,
        thread_id=thread_id,
        reply_count=reply_count,
        reactions=reactions or {},
        text=mark_untrusted(text),
    )
