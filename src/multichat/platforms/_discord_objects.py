"""Discord's objects as the adapter keeps them: channels, names, reactions, attachments.

Channel and message types are from https://discord.com/developers/docs/resources/channel
(channel types) and resources/message (message types); the VIEW_CHANNEL bit from
topics/permissions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from multichat.chat.emoji_names import emoji_name
from multichat.chat.models import ChannelKind

# resources/channel#channel-object-channel-types
DM, GROUP_DM, PRIVATE_THREAD = 1, 3, 12
TEXT_TYPES = frozenset({0, 5})  # GUILD_TEXT, GUILD_ANNOUNCEMENT
THREAD_TYPES = frozenset({10, 11, 12})  # ANNOUNCEMENT_, PUBLIC_, PRIVATE_THREAD
THREAD_ONLY_TYPES = frozenset({15, 16})  # GUILD_FORUM, GUILD_MEDIA: posts are threads
# resources/message#message-object-message-types: the empty first message of a thread started
# from a message; it only points at that message.
THREAD_STARTER_MESSAGE = 21
# topics/permissions#permissions-bitwise-permission-flags: VIEW_CHANNEL is 1 << 10.
VIEW_CHANNEL = 1 << 10
#: Names, channels and roles remembered per provider, each.
CACHE_SIZE = 4_096

V = TypeVar("V")


class Bounded(dict[str, V]):
    """A dict that forgets its oldest entries beyond ``size`` (names resolved per process)."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        """Empty, holding at most ``size`` entries."""
        super().__init__()
        self.size = size

    def __setitem__(self, key: str, value: V) -> None:
        """Store ``value`` as the newest entry, dropping the oldest one when full."""
        self.pop(key, None)
        super().__setitem__(key, value)
        while len(self) > self.size:
            del self[next(iter(self))]


@dataclass(frozen=True)
class Channel:
    """What the adapter needs to know of a Discord channel or thread."""

    id: str
    name: str
    type: int
    guild_id: str | None = None
    parent_id: str | None = None
    topic: str = ""
    last_message_id: str | None = None
    #: A guild channel that @everyone cannot view, or a private thread.
    private: bool = False

    @property
    def is_thread(self) -> bool:
        """Threads are channels of their own on Discord (topics/threads)."""
        return self.type in THREAD_TYPES

    @property
    def kind(self) -> ChannelKind:
        """How the tools class it."""
        if self.type == DM:
            return "direct"
        if self.type == GROUP_DM:
            return "group"
        return "private" if self.private else "public"


def display_name(user: dict[str, Any]) -> str:
    """How Discord shows a user: their display name, else their username."""
    return str(user.get("global_name") or user.get("username") or user["id"])


def hidden_from_everyone(raw: dict[str, Any]) -> bool:
    """Whether the @everyone role (whose id is the guild's) is denied VIEW_CHANNEL."""
    for overwrite in raw.get("permission_overwrites") or []:
        if overwrite.get("id") == raw.get("guild_id") and int(overwrite.get("deny") or 0) & (
            VIEW_CHANNEL
        ):
            return True
    return False


def read_channel(raw: dict[str, Any]) -> Channel:
    """A channel object (guild channel, thread or DM) as the adapter keeps it."""
    kind = int(raw["type"])
    if kind in (DM, GROUP_DM):
        names = ", ".join(display_name(user) for user in raw.get("recipients") or [])
        name = raw.get("name") or f"@{names or raw['id']}"
    else:
        name = raw.get("name") or raw["id"]
    return Channel(
        id=raw["id"],
        name=name,
        type=kind,
        guild_id=raw.get("guild_id"),
        parent_id=raw.get("parent_id"),
        topic=raw.get("topic") or "",
        last_message_id=raw.get("last_message_id"),
        private=kind == PRIVATE_THREAD or hidden_from_everyone(raw),
    )


def reaction_counts(raw: list[dict[str, Any]]) -> dict[str, int]:
    """``{"thumbsup": 2}``: standard emoji by their name, custom ones by theirs."""
    counts: dict[str, int] = {}
    for reaction in raw:
        name = str(reaction["emoji"].get("name") or "emoji")
        if reaction["emoji"].get("id") is None:
            name = emoji_name(name)
        counts[name] = counts.get(name, 0) + int(reaction.get("count", 0))
    return counts


def with_attachments(text: str, raw: dict[str, Any]) -> str:
    """The message's text, then a Markdown link to each attached file."""
    links = [f"[{item['filename']}]({item['url']})" for item in raw.get("attachments") or []]
    return "\n".join([text, *links]) if text and links else text or "\n".join(links)
