"""What the inbox tools return: one answer merged from every provider, with what was left out.

Items are the chat tools' own models (:mod:`multichat.chat.models`) plus the provider that
served them, so their ids work with that provider's tools (``PROVIDER_reply_to_thread``).
Message text stays marked as untrusted; the answer carries the notice once.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from multichat.chat.models import ChannelNews, ChatMessage
from multichat.runtime.untrusted import NOTICE as UNTRUSTED_NOTICE


class InboxMessage(ChatMessage):
    """A message, and the provider whose tools take its ids."""

    provider: str = Field(
        description="Use its ids with this provider's tools: PROVIDER_get_thread."
    )
    platform: str


class InboxChannel(ChannelNews):
    """What is new in one channel of one provider."""

    provider: str = Field(description="Use its ids with this provider's tools.")
    platform: str


class NotIncluded(BaseModel):
    """A provider whose answer is missing, why in one line, and what fixes it."""

    provider: str
    reason: str
    fix: str


class InboxCatchUp(BaseModel):
    """What is new everywhere: channels with mentions of the user first, then the newest."""

    notice: str = UNTRUSTED_NOTICE
    included: list[str] = Field(description="Providers whose news is in this answer.")
    not_included: list[NotIncluded]
    total_unread: int
    channels_with_news: int = Field(description="Channels with news before `limit` cut them.")
    channels: list[InboxChannel]
    notes: dict[str, str] = Field(
        default_factory=dict, description="Per provider: how its platform knows what is unread."
    )


class InboxMessages(BaseModel):
    """Messages from every provider, merged into one list."""

    notice: str = UNTRUSTED_NOTICE
    included: list[str] = Field(description="Providers whose messages are in this answer.")
    not_included: list[NotIncluded]
    messages: list[InboxMessage]
