"""The built-in sandbox platform (``multichat sandbox``): its chat API as the shared tools.

The sandbox speaks Markdown already and answers in the shared shapes, so this adapter is
mostly a map of tool to endpoint; it is also the smallest example of an adapter.
"""

from __future__ import annotations

import asyncio
import datetime
from typing import Any

from multichat.chat.adapter import ChatAdapter, iso
from multichat.chat.markup.limits import Limit, Unit
from multichat.chat.models import (
    CatchUp,
    ChannelKind,
    ChannelNews,
    ChannelPage,
    ChatChannel,
    ChatMessage,
    ChatThread,
    ChatUser,
    Deleted,
    MarkedRead,
    MessagePage,
    UserPage,
    message,
)
from multichat.errors import UserError


def to_message(raw: dict[str, Any]) -> ChatMessage:
    """A sandbox message as the tools show it: text marked untrusted."""
    return message(
        id=raw["id"],
        channel_id=raw["channel_id"],
        channel_name=raw.get("channel_name", ""),
        author_id=raw["user"]["id"],
        author=raw["user"]["name"],
        sent_at=raw["created_at"],
        edited=raw.get("edited_at") is not None,
        thread_id=raw.get("thread_id"),
        reply_count=raw.get("reply_count", 0),
        reactions={reaction["name"]: reaction["count"] for reaction in raw.get("reactions", [])},
        text=raw["text"],
    )


def _messages(page: dict[str, Any]) -> MessagePage:
    return MessagePage(
        messages=[to_message(item) for item in page["items"]], next_cursor=page.get("next_cursor")
    )


def _time(when: datetime.datetime | None) -> str | None:
    return iso(when) if when is not None else None


class Adapter(ChatAdapter):
    """The sandbox's ``/api/v1``."""

    platform = "sandbox"
    display_name = "Sandbox"
    # multichat.sandbox.schemas.MAX_TEXT: the sandbox refuses longer messages.
    message_limit = Limit(4_000, Unit.CHARACTERS)
    extra_tools = frozenset({"mark_read"})
    #: catch_up asks for two things per channel at once, so 20 channels take one round trip
    #: after the channel list, not two.
    max_concurrency = 40

    async def whoami(self) -> ChatUser:
        """``GET /me``."""
        me = await self.api.get("me")
        return ChatUser(id=me["id"], username=me["username"], name=me["name"], is_bot=me["is_bot"])

    async def list_channels(
        self, kinds: list[ChannelKind] | None, limit: int, cursor: str | None
    ) -> ChannelPage:
        """``GET /channels``."""
        types = ",".join(kind for kind in kinds if kind != "group") if kinds else None
        page = await self.api.get("channels", types=types, limit=limit, cursor=cursor)
        return ChannelPage(
            channels=[ChatChannel(**item) for item in page["items"]],
            next_cursor=page.get("next_cursor"),
        )

    async def channel_history(
        self,
        channel_id: str,
        limit: int,
        cursor: str | None,
        oldest: datetime.datetime | None,
        latest: datetime.datetime | None,
    ) -> MessagePage:
        """``GET /channels/{id}/messages``."""
        page = await self.api.get(
            f"channels/{channel_id}/messages",
            limit=limit,
            cursor=cursor,
            oldest=_time(oldest),
            latest=_time(latest),
        )
        return _messages(page)

    async def thread(self, message_id: str, limit: int, cursor: str | None) -> ChatThread:
        """``GET /messages/{id}`` and its ``/replies``, together."""
        root, replies = await asyncio.gather(
            self.api.get(f"messages/{message_id}"),
            self.api.get(f"messages/{message_id}/replies", limit=limit, cursor=cursor),
        )
        if root.get("thread_id"):
            raise UserError(
                f"{message_id} is a reply in thread {root['thread_id']}; ask for that thread"
            )
        return ChatThread(
            root=to_message(root),
            replies=[to_message(item) for item in replies["items"]],
            next_cursor=replies.get("next_cursor"),
        )

    async def send(self, channel_id: str, text: str) -> ChatMessage:
        """``POST /channels/{id}/messages``."""
        body = {"text": self.outgoing(text), "thread_id": None}
        return to_message(await self.api.post(f"channels/{channel_id}/messages", body))

    async def reply(self, message_id: str, text: str) -> ChatMessage:
        """The root's channel and thread, then ``POST /channels/{id}/messages``."""
        body = {"text": self.outgoing(text)}
        root = await self.api.get(f"messages/{message_id}")
        body["thread_id"] = root.get("thread_id") or root["id"]
        return to_message(await self.api.post(f"channels/{root['channel_id']}/messages", body))

    async def edit(self, message_id: str, text: str) -> ChatMessage:
        """``PATCH /messages/{id}``."""
        body = {"text": self.outgoing(text)}
        return to_message(await self.api.patch(f"messages/{message_id}", body))

    async def delete(self, message_id: str) -> Deleted:
        """``DELETE /messages/{id}``."""
        await self.api.delete(f"messages/{message_id}")
        return Deleted(message_id=message_id, deleted=True)

    async def react(self, message_id: str, emoji: str) -> ChatMessage:
        """``POST /messages/{id}/reactions``."""
        return to_message(await self.api.post(f"messages/{message_id}/reactions", {"name": emoji}))

    async def search(
        self, query: str, channel_id: str | None, limit: int, cursor: str | None
    ) -> MessagePage:
        """``GET /search`` (every word must match)."""
        page = await self.api.get(
            "search", query=query, channel_id=channel_id, limit=limit, cursor=cursor
        )
        return _messages(page)

    async def users(self, limit: int, cursor: str | None) -> UserPage:
        """``GET /users``."""
        page = await self.api.get("users", limit=limit, cursor=cursor)
        return UserPage(
            users=[ChatUser(**item) for item in page["items"]], next_cursor=page.get("next_cursor")
        )

    async def mentions(self, limit: int, cursor: str | None) -> MessagePage:
        """``GET /mentions``."""
        return _messages(await self.api.get("mentions", limit=limit, cursor=cursor))

    async def catch_up(self, per_channel: int, max_channels: int) -> CatchUp:
        """Each member channel's read marker and latest page, all at once."""
        api = self.api

        async def member_channels() -> list[dict[str, Any]]:
            listed = api.pages("channels", params={"limit": 200})
            return [channel async for channel in listed if channel["is_member"]]

        me, all_channels = await asyncio.gather(api.get("me"), member_channels())
        channels = all_channels[:max_channels]

        async def news(channel: dict[str, Any]) -> ChannelNews | None:
            # The read marker and the latest page are fetched together (one round trip, not
            # two); the page is then cut to what is unread.
            marker, page = await asyncio.gather(
                api.get(f"channels/{channel['id']}/read-marker"),
                api.get(f"channels/{channel['id']}/messages", limit=per_channel),
            )
            unread = int(marker["unread_count"])
            if unread == 0:
                return None
            items = page["items"][: min(unread, per_channel)]
            return ChannelNews(
                channel_id=channel["id"],
                channel_name=channel["name"],
                unread_count=unread,
                mentions_of_me=sum(1 for item in items if me["id"] in item.get("mentions", [])),
                latest=[to_message(item) for item in items],
            )

        found = await asyncio.gather(*(news(channel) for channel in channels))
        busy = sorted(
            (item for item in found if item is not None),
            key=lambda item: (-item.mentions_of_me, -item.unread_count),
        )
        return CatchUp(
            channels_checked=len(channels),
            total_unread=sum(item.unread_count for item in busy),
            channels=busy,
            note="From each channel's read marker; nothing is marked as read.",
        )

    async def mark_read(self, channel_id: str) -> MarkedRead:
        """The newest message, then ``POST /channels/{id}/read-marker``."""
        page = await self.api.get(f"channels/{channel_id}/messages", limit=1)
        if not page["items"]:
            return MarkedRead(channel_id=channel_id, marked_read=True)
        newest = page["items"][0]["id"]
        await self.api.post(f"channels/{channel_id}/read-marker", {"message_id": newest})
        return MarkedRead(channel_id=channel_id, marked_read=True)
