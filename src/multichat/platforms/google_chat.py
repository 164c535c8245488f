"""Google Chat (``chat.googleapis.com/v1``, user authentication) as the shared chat tools.

Spaces are channels; ids are Google's own resource names (``spaces/AAA``,
``spaces/AAA/messages/BBB.CCC``, ``spaces/AAA/threads/DDD``), checked before they go into a
path. Text goes out in Chat's own markup (``markupSyntax: MARKUP_SYNTAX_CHAT``) and comes back
from ``formattedText`` in the same syntax: that format is documented for user-sent messages and
mentions (https://developers.google.com/workspace/chat/format-messages), while the API's
``MARKUP_SYNTAX_MARKDOWN`` says only "based on CommonMark, with additional extensions".
Every request and answer shape is from the discovery document (``chat.v1.json``).
"""

from __future__ import annotations

import asyncio
import datetime
import re
import time
from collections.abc import Iterable, Mapping
from typing import Any

from multichat.chat.adapter import ChatAdapter, iso
from multichat.chat.cache import BoundedCache
from multichat.chat.emoji_names import emoji_character, emoji_name
from multichat.chat.markup.google_chat import from_google_chat, to_google_chat
from multichat.chat.markup.limits import GOOGLE_CHAT
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
from multichat.runtime.config import load_config
from multichat.runtime.identity import whoami_url
from multichat.runtime.platform_client import PlatformError

_SPACE = re.compile(r"spaces/[A-Za-z0-9_-]+")
_MESSAGE = re.compile(r"(spaces/[A-Za-z0-9_-]+)/messages/[A-Za-z0-9._-]+")
_THREAD = re.compile(r"(spaces/[A-Za-z0-9_-]+)/threads/[A-Za-z0-9._-]+")
#: The syntax of ``text`` we send and of ``formattedText`` we ask for (Message.markupSyntax).
SYNTAX = "MARKUP_SYNTAX_CHAT"
#: spaces.messages.list orders by ``create_time ASC`` by default; this is newest first (the
#: value the seed project used against the live API, siva010928/multi-chat-mcp-server,
#: src/providers/google_chat/api/messages.py).
NEWEST_FIRST = "createTime desc"
#: spaces.messages.list and spaces.list take at most 1000 per page, search 100 (chat.v1.json).
MAX_PAGE = 1000
MAX_SEARCH_PAGE = 100
#: list_users gathers the members of at most this many spaces, kept for this many seconds.
DIRECTORY_SPACES = 200
DIRECTORY_TTL = 300.0
#: catch_up counts at most this many unread messages per space (one page).
UNREAD_COUNTED = 1000
_KINDS: dict[str, ChannelKind] = {"GROUP_CHAT": "group", "DIRECT_MESSAGE": "direct"}
_SPACE_TYPES = {
    "public": "SPACE",
    "private": "SPACE",
    "group": "GROUP_CHAT",
    "direct": "DIRECT_MESSAGE",
}


def space_id(value: str) -> str:
    """A channel id as a space resource name; ``AAA`` is taken as ``spaces/AAA``.

    Raises:
        UserError: not a space name.
    """
    name = value if value.startswith("spaces/") else f"spaces/{value}"
    if not _SPACE.fullmatch(name):
        raise UserError(f"{value!r} is not a Google Chat space id (spaces/AAAA...)")
    return name


def message_or_thread(value: str) -> tuple[str, bool]:
    """``(name, is_thread)`` for a message or thread resource name.

    Raises:
        UserError: neither.
    """
    if _MESSAGE.fullmatch(value):
        return value, False
    if _THREAD.fullmatch(value):
        return value, True
    raise UserError(
        f"{value!r} is not a Google Chat message id (spaces/AAA/messages/BBB) "
        "or thread id (spaces/AAA/threads/CCC)"
    )


def message_name(value: str) -> str:
    """A message resource name.

    Raises:
        UserError: not one.
    """
    if not _MESSAGE.fullmatch(value):
        raise UserError(f"{value!r} is not a Google Chat message id (spaces/AAA/messages/BBB)")
    return value


def space_of(name: str) -> str:
    """The space part of a message or thread name."""
    return "/".join(name.split("/")[:2])


def when(text: str) -> datetime.datetime:
    """An RFC 3339 timestamp (up to nanoseconds, ``Z``) as an aware datetime."""
    return datetime.datetime.fromisoformat(text)


def _quoted_words(query: str) -> str:
    """Search keywords, each quoted, so that nothing in them reads as filter syntax."""
    words = (word.replace('"', "").replace("\\", "") for word in query.split())
    return " ".join(f'"{word}"' for word in words if word)


def _mentioned(raw: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
    for annotation in raw.get("annotations") or ():
        user = (annotation.get("userMention") or {}).get("user")
        if user:
            yield user


class Adapter(ChatAdapter):
    """Google Chat's REST API with a user's OAuth token."""

    platform = "google_chat"
    display_name = "Google Chat"
    message_limit = GOOGLE_CHAT
    extra_tools = frozenset({"mark_read"})

    def __init__(self, provider: str) -> None:
        """Caches start empty: names of users and spaces, the user, the member directory."""
        super().__init__(provider)
        self._names: BoundedCache[str, str] = BoundedCache()
        self._me: ChatUser | None = None
        self._directory: tuple[float, list[ChatUser]] | None = None

    def to_platform(self, markdown: str) -> str:
        """Markdown in Chat's own text format."""
        return to_google_chat(markdown)

    # ---- names ---------------------------------------------------------------------------

    async def whoami(self) -> ChatUser:
        """The OpenID Connect userinfo call (``auth.whoami``): the Chat API has no "me".

        ``sub`` is the Google account id, which the Chat API uses in ``users/{id}``.
        """
        settings = load_config().provider(self.provider)
        info = await self.api.get(whoami_url(self.provider, settings))
        self._me = ChatUser(
            id=f"users/{info['sub']}",
            username=str(info.get("email") or info["sub"]),
            name=str(info.get("name") or info.get("email") or info["sub"]),
        )
        self._names[self._me.id] = self._me.name
        return self._me

    async def _my_id(self) -> str | None:
        """The user's ``users/{id}`` (asked once), or None when userinfo is not available."""
        if self._me is None:
            try:
                await self.whoami()
            except PlatformError:
                return None
        return self._me.id if self._me is not None else None

    def _learn(self, raw: Mapping[str, Any]) -> None:
        """Remember the names a message carries (its sender, the people it mentions)."""
        for user in (raw.get("sender") or {}, *_mentioned(raw)):
            if user.get("name") and user.get("displayName"):
                self._names[user["name"]] = user["displayName"]

    async def _resolve_senders(self, messages: Iterable[Mapping[str, Any]]) -> None:
        """Ask the space's membership for senders whose name the answer left out."""
        missing: dict[str, str] = {}
        for raw in messages:
            self._learn(raw)
            sender = (raw.get("sender") or {}).get("name")
            if sender and sender not in self._names and sender.startswith("users/"):
                missing[sender] = space_of(raw["name"])

        async def member(user: str, space: str) -> None:
            try:
                found = await self.api.get(f"{space}/members/{user.removeprefix('users/')}")
            except PlatformError:
                return  # left the space, or not visible: the id stands in for the name
            name = (found.get("member") or {}).get("displayName")
            if name:
                self._names[user] = name

        await asyncio.gather(*(member(user, space) for user, space in missing.items()))

    async def _space(self, name: str) -> Mapping[str, Any]:
        return dict(await self.api.get(name))

    async def _space_name(self, space: Mapping[str, Any]) -> str:
        """A space's display name; a DM or unnamed group chat is named after its members."""
        name = str(space["name"])
        if space.get("displayName"):
            self._names[name] = str(space["displayName"])
        if name in self._names:
            return self._names[name]
        me = await self._my_id()
        page = await self.api.get(f"{name}/members", pageSize=10)
        others = [
            (member.get("member") or {}).get("displayName") or ""
            for member in page.get("memberships", [])
            if (member.get("member") or {}).get("name") != me
        ]
        self._names[name] = ", ".join(other for other in others if other) or name
        return self._names[name]

    async def _names_of_spaces(self, names: Iterable[str]) -> dict[str, str]:
        unknown = sorted({name for name in names if name not in self._names})
        spaces = await asyncio.gather(*(self._space(name) for name in unknown))
        await asyncio.gather(*(self._space_name(space) for space in spaces))
        return {name: self._names.get(name, name) for name in names}

    # ---- messages ------------------------------------------------------------------------

    def _message(self, raw: Mapping[str, Any], channel_name: str) -> ChatMessage:
        sender = raw.get("sender") or {}
        author_id = str(sender.get("name", ""))
        mentions = {user["name"]: user.get("displayName") for user in _mentioned(raw)}
        text = raw.get("formattedText") or raw.get("text") or raw.get("fallbackText") or ""
        reactions: dict[str, int] = {}
        for summary in raw.get("emojiReactionSummaries") or ():
            emoji = summary.get("emoji") or {}
            custom = (emoji.get("customEmoji") or {}).get("emojiName", "").strip(":")
            key = emoji_name(emoji["unicode"]) if emoji.get("unicode") else custom or "emoji"
            reactions[key] = reactions.get(key, 0) + int(summary.get("reactionCount", 0))
        thread = (raw.get("thread") or {}).get("name")
        return message(
            id=raw["name"],
            channel_id=space_of(raw["name"]),
            channel_name=channel_name,
            author_id=author_id,
            author=sender.get("displayName") or self._names.get(author_id, author_id),
            sent_at=raw.get("createTime", ""),
            edited=bool(raw.get("lastUpdateTime")),
            thread_id=thread if raw.get("threadReply") else None,
            reactions=reactions,
            text=from_google_chat(text, lambda user: mentions.get(user) or self._names.get(user)),
        )

    async def _messages(self, items: list[Mapping[str, Any]]) -> list[ChatMessage]:
        """Messages as the tools show them, their senders and spaces named."""
        await self._resolve_senders(items)
        spaces = await self._names_of_spaces([space_of(raw["name"]) for raw in items])
        return [self._message(raw, spaces[space_of(raw["name"])]) for raw in items]

    async def _get_message(self, name: str) -> dict[str, Any]:
        return dict(await self.api.get(name, markupSyntax=SYNTAX))

    # ---- the tools -----------------------------------------------------------------------

    async def list_channels(
        self, kinds: list[ChannelKind] | None, limit: int, cursor: str | None
    ) -> ChannelPage:
        """``GET /spaces`` (the spaces the user is a member of), filtered by space type."""
        types = sorted({_SPACE_TYPES[kind] for kind in kinds}) if kinds else []
        where = " OR ".join(f'spaceType = "{kind}"' for kind in types) or None
        page = await self.api.get(
            "spaces", pageSize=min(limit, MAX_PAGE), pageToken=cursor, filter=where
        )
        channels = list(
            await asyncio.gather(*(self._channel(space) for space in page.get("spaces", [])))
        )
        if kinds:
            channels = [channel for channel in channels if channel.kind in kinds]
        return ChannelPage(channels=channels, next_cursor=page.get("nextPageToken") or None)

    async def _channel(self, space: Mapping[str, Any]) -> ChatChannel:
        kind = _KINDS.get(str(space.get("spaceType")))
        if kind is None:
            access = (space.get("accessSettings") or {}).get("accessState")
            kind = "public" if access == "DISCOVERABLE" else "private"
        counts = space.get("membershipCount") or {}
        return ChatChannel(
            id=space["name"],
            name=await self._space_name(space),
            kind=kind,
            topic=(space.get("spaceDetails") or {}).get("description", ""),
            is_member=True,
            member_count=counts.get("joinedDirectHumanUserCount"),
            last_message_at=space.get("lastActiveTime"),
        )

    async def channel_history(
        self,
        channel_id: str,
        limit: int,
        cursor: str | None,
        oldest: datetime.datetime | None,
        latest: datetime.datetime | None,
    ) -> MessagePage:
        """``GET /spaces/{space}/messages``, newest first, ``create_time`` as the window.

        The list holds thread replies too; they are left out here (get_thread shows them) and
        counted into their root's ``reply_count`` when the root is on the same page.
        """
        space = space_id(channel_id)
        window = [f'create_time > "{iso(oldest)}"'] if oldest else []
        window += [f'create_time < "{iso(latest)}"'] if latest else []
        page = await self.api.get(
            f"{space}/messages",
            pageSize=min(limit, MAX_PAGE),
            pageToken=cursor,
            filter=" AND ".join(window) or None,
            orderBy=NEWEST_FIRST,
            markupSyntax=SYNTAX,
        )
        items = page.get("messages", [])
        replies: dict[str, int] = {}
        for raw in items:
            if raw.get("threadReply"):
                thread = (raw.get("thread") or {}).get("name", "")
                replies[thread] = replies.get(thread, 0) + 1
        roots = [raw for raw in items if not raw.get("threadReply")]
        shown = await self._messages(roots)
        for raw, shown_message in zip(roots, shown, strict=True):
            shown_message.reply_count = replies.get((raw.get("thread") or {}).get("name", ""), 0)
        return MessagePage(messages=shown, next_cursor=page.get("nextPageToken") or None)

    async def thread(self, message_id: str, limit: int, cursor: str | None) -> ChatThread:
        """The thread's messages, oldest first: ``GET .../messages?filter=thread.name = ...``.

        Takes a thread id or any message in the thread.
        """
        name, is_thread = message_or_thread(message_id)
        root: Mapping[str, Any] | None = None
        if is_thread:
            thread = name
        else:
            found = await self._get_message(name)
            thread = (found.get("thread") or {}).get("name") or ""
            root = None if found.get("threadReply") else found
        if not thread:
            raise UserError(f"{message_id} is not in a thread")
        page = await self.api.get(
            f"{space_of(name)}/messages",
            pageSize=min(limit, MAX_PAGE),
            pageToken=cursor,
            filter=f"thread.name = {thread}",
            markupSyntax=SYNTAX,
        )
        items = list(page.get("messages", []))
        if cursor is None and items:
            root, items = items[0], items[1:]
        elif root is None:
            first = await self.api.get(
                f"{space_of(name)}/messages",
                pageSize=1,
                filter=f"thread.name = {thread}",
                markupSyntax=SYNTAX,
            )
            root = next(iter(first.get("messages", [])), None)
        if root is None:
            raise UserError(f"no messages in thread {thread}")
        shown = await self._messages([root, *items])
        shown[0].reply_count = len(items) if cursor is None else shown[0].reply_count
        return ChatThread(
            root=shown[0], replies=shown[1:], next_cursor=page.get("nextPageToken") or None
        )

    async def send(self, channel_id: str, text: str) -> ChatMessage:
        """``POST /spaces/{space}/messages``."""
        body = {"text": self.outgoing(text), "markupSyntax": SYNTAX}
        created = await self.api.post(f"{space_id(channel_id)}/messages", body)
        return (await self._messages([created]))[0]

    async def reply(self, message_id: str, text: str) -> ChatMessage:
        """``POST .../messages`` with ``thread.name`` and ``REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD``.

        In a space without threads Chat posts it as a new message (the answer says where).
        """
        body: dict[str, Any] = {"text": self.outgoing(text), "markupSyntax": SYNTAX}
        name, is_thread = message_or_thread(message_id)
        if is_thread:
            thread = name
        else:
            thread = str(((await self._get_message(name)).get("thread") or {}).get("name", ""))
        if not thread:
            raise UserError(f"{message_id} has no thread to reply in")
        body["thread"] = {"name": thread}
        created = await self.api.post(
            f"{space_of(name)}/messages",
            body,
            messageReplyOption="REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD",
        )
        return (await self._messages([created]))[0]

    async def edit(self, message_id: str, text: str) -> ChatMessage:
        """``PATCH /spaces/{space}/messages/{message}?updateMask=text``."""
        body = {"text": self.outgoing(text), "markupSyntax": SYNTAX}
        updated = await self.api.patch(message_name(message_id), body, updateMask="text")
        return (await self._messages([updated]))[0]

    async def delete(self, message_id: str) -> Deleted:
        """``DELETE /spaces/{space}/messages/{message}`` (refused while it has replies)."""
        await self.api.delete(message_name(message_id))
        return Deleted(message_id=message_id, deleted=True)

    async def react(self, message_id: str, emoji: str) -> ChatMessage:
        """``POST .../messages/{message}/reactions`` with ``emoji.unicode``, then the message."""
        name = message_name(message_id)
        await self.api.post(f"{name}/reactions", {"emoji": {"unicode": emoji_character(emoji)}})
        return (await self._messages([await self._get_message(name)]))[0]

    async def search(
        self, query: str, channel_id: str | None, limit: int, cursor: str | None
    ) -> MessagePage:
        """``POST /spaces/-/messages:search`` (user authentication only; newest first).

        Each word must match; ``channel_id`` becomes a ``space.name`` filter.
        """
        words = _quoted_words(query)
        if not words:
            raise UserError("give at least one word to search for")
        where = words + (f' AND space.name = "{space_id(channel_id)}"' if channel_id else "")
        return await self._search(where, limit, cursor)

    async def mentions(self, limit: int, cursor: str | None) -> MessagePage:
        """Search with ``annotations.user_mentions.user.name:users/me`` (the ``me`` alias)."""
        return await self._search("annotations.user_mentions.user.name:users/me", limit, cursor)

    async def _search(self, where: str, limit: int, cursor: str | None) -> MessagePage:
        body = {
            "filter": where,
            "pageSize": min(limit, MAX_SEARCH_PAGE),
            "pageToken": cursor,
            "markupSyntax": SYNTAX,
        }
        page = await self.api.post(
            "spaces/-/messages:search", {key: value for key, value in body.items() if value}
        )
        found = [result["message"] for result in page.get("results", []) if "message" in result]
        return MessagePage(
            messages=await self._messages(found), next_cursor=page.get("nextPageToken") or None
        )

    async def users(self, limit: int, cursor: str | None) -> UserPage:
        """The members of the user's spaces (Chat has no directory), by name.

        Gathered from ``GET /spaces/{space}/members`` across up to 200 spaces, kept five
        minutes; the cursor is an offset into that list.
        """
        if cursor is not None and not cursor.isdigit():
            raise UserError(f"{cursor!r} is not a cursor list_users gave")
        start = int(cursor or 0)
        people = await self._members_of_my_spaces()
        end = start + limit
        return UserPage(
            users=people[start:end], next_cursor=str(end) if end < len(people) else None
        )

    async def _members_of_my_spaces(self) -> list[ChatUser]:
        if self._directory and time.monotonic() - self._directory[0] < DIRECTORY_TTL:
            return self._directory[1]
        spaces = [
            space["name"]
            async for space in self.api.pages(
                "spaces",
                params={"pageSize": MAX_PAGE},
                items_key="spaces",
                cursor_key="nextPageToken",
                cursor_param="pageToken",
                max_items=DIRECTORY_SPACES,
            )
        ]

        async def members(space: str) -> list[Mapping[str, Any]]:
            return [
                item
                async for item in self.api.pages(
                    f"{space}/members",
                    params={"pageSize": MAX_PAGE},
                    items_key="memberships",
                    cursor_key="nextPageToken",
                    cursor_param="pageToken",
                )
            ]

        people: dict[str, ChatUser] = {}
        for memberships in await asyncio.gather(*(members(space) for space in spaces)):
            for membership in memberships:
                user = membership.get("member") or {}
                if not user.get("name") or user["name"] in people:
                    continue
                name = user.get("displayName") or self._names.get(user["name"], user["name"])
                self._names[user["name"]] = name
                people[user["name"]] = ChatUser(
                    id=user["name"],
                    username=user.get("email") or user["name"],
                    name=name,
                    is_bot=user.get("type") == "BOT",
                )
        listed = sorted(people.values(), key=lambda person: (person.name.lower(), person.id))
        self._directory = (time.monotonic(), listed)
        return listed

    async def catch_up(self, per_channel: int, max_channels: int) -> CatchUp:
        """Each space's ``users/me/spaces/{space}/spaceReadState`` and what came after it.

        Only top-level messages count: thread replies have their own read state.
        """
        spaces = [
            space
            async for space in self.api.pages(
                "spaces",
                params={"pageSize": MAX_PAGE},
                items_key="spaces",
                cursor_key="nextPageToken",
                cursor_param="pageToken",
            )
        ]
        spaces.sort(key=lambda space: space.get("lastActiveTime", ""), reverse=True)
        spaces = spaces[:max_channels]
        me = await self._my_id()
        found = await asyncio.gather(*(self._news(space, me, per_channel) for space in spaces))
        busy = sorted(
            (news for news in found if news is not None),
            key=lambda news: (-news.mentions_of_me, -news.unread_count),
        )
        return CatchUp(
            channels_checked=len(spaces),
            total_unread=sum(news.unread_count for news in busy),
            channels=busy,
            note=(
                "From Google Chat's read state of each space (spaceReadState.lastReadTime): "
                f"top-level messages after it, at most {UNREAD_COUNTED} counted per space; "
                "thread replies have their own read state and are not counted. "
                "Nothing is marked as read."
            ),
        )

    async def _news(
        self, space: Mapping[str, Any], me: str | None, per_channel: int
    ) -> ChannelNews | None:
        state = await self.api.get(f"users/me/{space['name']}/spaceReadState")
        last_read = state.get("lastReadTime")
        active = space.get("lastActiveTime")
        if last_read and active and when(active) <= when(last_read):
            return None
        page = await self.api.get(
            f"{space['name']}/messages",
            pageSize=UNREAD_COUNTED,
            filter=f'create_time > "{last_read}"' if last_read else None,
            orderBy=NEWEST_FIRST,
            markupSyntax=SYNTAX,
        )
        unread = [
            raw
            for raw in page.get("messages", [])
            if not raw.get("threadReply") and (raw.get("sender") or {}).get("name") != me
        ]
        if not unread:
            return None
        latest = unread[:per_channel]
        return ChannelNews(
            channel_id=space["name"],
            channel_name=await self._space_name(space),
            unread_count=len(unread),
            mentions_of_me=sum(
                1 for raw in latest if any(user.get("name") == me for user in _mentioned(raw))
            ),
            latest=await self._messages(latest),
        )

    async def mark_read(self, channel_id: str) -> MarkedRead:
        """``PATCH users/me/spaces/{space}/spaceReadState?updateMask=last_read_time`` to now.

        Chat moves a later time back to the newest message's (chat.v1.json, updateMask).
        """
        space = space_id(channel_id)
        now = iso(datetime.datetime.now(datetime.UTC))
        await self.api.patch(
            f"users/me/{space}/spaceReadState",
            {"lastReadTime": now},
            updateMask="last_read_time",
        )
        return MarkedRead(channel_id=space, marked_read=True)
