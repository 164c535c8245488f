"""Mattermost (API v4) as the shared chat tools, signed in with the user's own token.

What each tool calls is in docs/platforms/mattermost.md; the description checked in the tests
is mattermost-api-reference v4 (tests/support/specs/mattermost/). Posts, channels and users
have global 26-character ids, so a message id is the post id as it is. Mattermost times are
milliseconds since the epoch; the tools show ISO-8601. Post text is Markdown both ways.
"""

from __future__ import annotations

import asyncio
import datetime
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from multichat.chat.adapter import ChatAdapter, iso
from multichat.chat.cache import BoundedCache
from multichat.chat.markup.limits import MATTERMOST
from multichat.chat.markup.mattermost import from_mattermost, to_mattermost
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
from multichat.platforms._pages import (
    Batch,
    newest_first,
    numbered_window,
    offset_cursor,
    read_offset,
)

#: Mattermost's ids: 26 lowercase letters and digits (server/public/model/utils.go NewId).
_ID = re.compile(r"[a-z0-9]{26}\Z")
#: Channel types (definitions.yaml, Channel.type): Open, Private, Direct, Group.
_KINDS: dict[str, ChannelKind] = {"O": "public", "P": "private", "D": "direct", "G": "group"}
_KIND_ORDER = {"public": 0, "private": 1, "group": 2, "direct": 3}
#: posts.yaml GetPostsForChannel: per_page defaults to 60; 200 is the server's maximum.
_PAGE = 60
_MAX_PAGE = 200
#: How far search pages go: 200 is the most Mattermost's list endpoints take per page
#: (server/channels/web/params.go, PerPageMaximum); search is asked for no more.
_MAX_SEARCH = 200


@dataclass(frozen=True)
class _Channel:
    """What a channel id means: its shown name, kind, team and URL name (``in:`` takes it)."""

    id: str
    name: str
    kind: ChannelKind
    team_id: str
    handle: str


def _time(milliseconds: int) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(milliseconds / 1000, datetime.UTC)


def _flatten(post_list: dict[str, Any]) -> list[dict[str, Any]]:
    """A PostList's posts in its ``order`` (newest first for a channel)."""
    posts = post_list.get("posts") or {}
    return [posts[post_id] for post_id in post_list.get("order") or [] if post_id in posts]


def _reactions(post: dict[str, Any]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for reaction in (post.get("metadata") or {}).get("reactions") or []:
        counts[reaction["emoji_name"]] = counts.get(reaction["emoji_name"], 0) + 1
    return counts


def _is_system(post: dict[str, Any]) -> bool:
    """Join/leave and header-change notices (``system_*`` types) are not conversation."""
    return str(post.get("type") or "").startswith("system_")


def _full_name(user: dict[str, Any]) -> str:
    name = " ".join(part for part in (user.get("first_name"), user.get("last_name")) if part)
    return name or user.get("nickname") or user.get("username") or user["id"]


def _user(user: dict[str, Any]) -> ChatUser:
    return ChatUser(
        id=user["id"],
        username=user.get("username", ""),
        name=_full_name(user),
        is_bot=bool(user.get("is_bot")),
    )


class Adapter(ChatAdapter):
    """Mattermost's REST API v4 (``api_base_url`` is ``https://SERVER/api/v4``)."""

    platform = "mattermost"
    display_name = "Mattermost"
    message_limit = MATTERMOST
    extra_tools = frozenset({"mark_read"})

    def __init__(self, provider: str) -> None:
        """Bind to ``provider``; users and channels are looked up once, then cached."""
        super().__init__(provider)
        self._users: BoundedCache[str, dict[str, Any]] = BoundedCache()
        self._channels: BoundedCache[str, _Channel] = BoundedCache()
        self._me: dict[str, Any] | None = None

    def to_platform(self, markdown: str) -> str:
        """Mattermost renders Markdown itself."""
        return to_mattermost(markdown)

    # ---- ids and names --------------------------------------------------------------------

    def _check_id(self, value: str, what: str) -> str:
        if not _ID.match(value):
            raise UserError(
                f"{value!r} is not a Mattermost {what} id (26 lowercase letters and digits)"
            )
        return value

    async def _myself(self) -> dict[str, Any]:
        if self._me is None:
            self._me = await self.api.get("users/me")
            self._users.put(self._me["id"], self._me)
        return self._me

    async def _load_users(self, ids: Iterable[str]) -> None:
        """Fetch the users not cached yet, in one ``POST /users/ids``."""
        missing = self._users.missing(ids)
        if missing:
            for user in await self.api.post("users/ids", missing) or []:
                self._users.put(user["id"], user)

    def _user_name(self, user_id: str) -> str:
        user = self._users.get(user_id)
        return _full_name(user) if user else user_id

    async def _describe(self, channels: list[dict[str, Any]]) -> list[_Channel]:
        """Channels as the tools name them: a direct channel by the other person's name."""
        me = (await self._myself())["id"]
        others = {
            channel["id"]: next((part for part in channel["name"].split("__") if part != me), me)
            for channel in channels
            if channel.get("type") == "D"
        }
        await self._load_users(others.values())
        described = []
        for channel in channels:
            kind = _KINDS.get(channel.get("type", ""), "public")
            if kind == "direct":
                name = self._user_name(others[channel["id"]])
            else:
                name = channel.get("display_name") or channel.get("name") or channel["id"]
            entry = _Channel(
                channel["id"], name, kind, channel.get("team_id", ""), channel.get("name", "")
            )
            self._channels.put(entry.id, entry)
            described.append(entry)
        return described

    async def _channel(self, channel_id: str) -> _Channel:
        cached = self._channels.get(channel_id)
        if cached is None:
            [cached] = await self._describe([await self.api.get(f"channels/{channel_id}")])
        return cached

    async def _messages(self, posts: list[dict[str, Any]]) -> list[ChatMessage]:
        """Posts as messages, their authors and channels named (looked up together)."""
        channel_ids = list(dict.fromkeys(post["channel_id"] for post in posts))
        await asyncio.gather(
            self._load_users(post["user_id"] for post in posts),
            *(self._channel(channel_id) for channel_id in self._channels.missing(channel_ids)),
        )
        return [self._message(post) for post in posts]

    def _message(self, post: dict[str, Any]) -> ChatMessage:
        channel = self._channels.get(post["channel_id"])
        return message(
            id=post["id"],
            channel_id=post["channel_id"],
            channel_name=channel.name if channel else post["channel_id"],
            author_id=post["user_id"],
            author=self._user_name(post["user_id"]),
            sent_at=iso(_time(post["create_at"])),
            edited=bool(post.get("edit_at")),
            thread_id=post.get("root_id") or None,
            reply_count=int(post.get("reply_count") or 0),
            reactions=_reactions(post),
            text=from_mattermost(post.get("message", "")),
        )

    async def _teams(self) -> list[dict[str, Any]]:
        teams: list[dict[str, Any]] = await self.api.get("users/me/teams")
        return teams

    async def _my_channels(self) -> list[dict[str, Any]]:
        """Every channel of the user, across teams; direct and group ones listed once."""
        teams = await self._teams()
        lists = await asyncio.gather(
            *(self.api.get(f"users/me/teams/{team['id']}/channels") for team in teams)
        )
        unique = {channel["id"]: channel for listed in lists for channel in listed or []}
        return [channel for channel in unique.values() if not channel.get("delete_at")]

    # ---- the twelve jobs ------------------------------------------------------------------

    async def whoami(self) -> ChatUser:
        """``GET /users/me``."""
        self._me = None
        return _user(await self._myself())

    async def list_channels(
        self, kinds: list[ChannelKind] | None, limit: int, cursor: str | None
    ) -> ChannelPage:
        """``GET /users/me/teams``, then each team's ``/users/me/teams/{id}/channels``."""
        offset = read_offset(cursor)
        raw = await self._my_channels()
        described = {entry.id: entry for entry in await self._describe(raw)}
        channels = [
            ChatChannel(
                id=channel["id"],
                name=described[channel["id"]].name,
                kind=described[channel["id"]].kind,
                topic=channel.get("header") or channel.get("purpose") or "",
                is_member=True,
                last_message_at=iso(_time(channel["last_post_at"]))
                if channel.get("last_post_at")
                else None,
            )
            for channel in raw
        ]
        wanted = [c for c in channels if kinds is None or c.kind in kinds]
        wanted.sort(key=lambda c: (_KIND_ORDER[c.kind], c.name.lower(), c.id))
        page = wanted[offset : offset + limit]
        return ChannelPage(
            channels=page, next_cursor=offset_cursor(offset + limit, offset + limit < len(wanted))
        )

    async def channel_history(
        self,
        channel_id: str,
        limit: int,
        cursor: str | None,
        oldest: datetime.datetime | None,
        latest: datetime.datetime | None,
    ) -> MessagePage:
        """``GET /channels/{id}/posts`` pages (``before`` the last post seen), replies left out."""
        self._check_id(channel_id, "channel")
        if cursor is not None:
            self._check_id(cursor, "cursor (post)")
        size = _MAX_PAGE if oldest or latest else min(_MAX_PAGE, max(limit, _PAGE))

        async def fetch(before: str | None) -> Batch[dict[str, Any]]:
            page = await self.api.get(
                f"channels/{channel_id}/posts", page=0, per_page=size, before=before
            )
            return Batch(_flatten(page), len(page.get("order") or []) < size)

        posts, next_cursor = await newest_first(
            fetch,
            limit=limit,
            cursor=cursor,
            key=lambda post: str(post["id"]),
            sent=lambda post: _time(post["create_at"]),
            keep=lambda post: not post.get("root_id") and not _is_system(post),
            oldest=oldest,
            latest=latest,
        )
        return MessagePage(messages=await self._messages(posts), next_cursor=next_cursor)

    async def thread(self, message_id: str, limit: int, cursor: str | None) -> ChatThread:
        """``GET /posts/{id}/thread``: any post of the thread gives the whole thread."""
        self._check_id(message_id, "post")
        offset = read_offset(cursor)
        posts = _flatten(await self.api.get(f"posts/{message_id}/thread"))
        by_id = {post["id"]: post for post in posts}
        asked = by_id.get(message_id, {})
        root_id = asked.get("root_id") or message_id
        if root_id not in by_id:
            raise UserError(f"Mattermost gave no thread root for post {message_id}")
        replies = sorted(
            (post for post in posts if post["id"] != root_id), key=lambda post: post["create_at"]
        )
        shown = replies[offset : offset + limit]
        root, *rest = await self._messages([by_id[root_id], *shown])
        more = offset + limit < len(replies)
        return ChatThread(root=root, replies=rest, next_cursor=offset_cursor(offset + limit, more))

    async def send(self, channel_id: str, text: str) -> ChatMessage:
        """``POST /posts``."""
        body = {"channel_id": self._check_id(channel_id, "channel"), "message": self.outgoing(text)}
        [sent] = await self._messages([await self.api.post("posts", body)])
        return sent

    async def reply(self, message_id: str, text: str) -> ChatMessage:
        """The post (for its channel and root), then ``POST /posts`` with ``root_id``."""
        content = self.outgoing(text)
        post = await self.api.get(f"posts/{self._check_id(message_id, 'post')}")
        body = {
            "channel_id": post["channel_id"],
            "message": content,
            "root_id": post.get("root_id") or post["id"],
        }
        [sent] = await self._messages([await self.api.post("posts", body)])
        return sent

    async def edit(self, message_id: str, text: str) -> ChatMessage:
        """``PUT /posts/{id}/patch``."""
        body = {"message": self.outgoing(text)}
        patched = await self.api.put(f"posts/{self._check_id(message_id, 'post')}/patch", body)
        [edited] = await self._messages([patched])
        return edited

    async def delete(self, message_id: str) -> Deleted:
        """``DELETE /posts/{id}``."""
        await self.api.delete(f"posts/{self._check_id(message_id, 'post')}")
        return Deleted(message_id=message_id, deleted=True)

    async def react(self, message_id: str, emoji: str) -> ChatMessage:
        """``POST /reactions``, then the post with its reactions."""
        self._check_id(message_id, "post")
        me = (await self._myself())["id"]
        await self.api.post(
            "reactions", {"user_id": me, "post_id": message_id, "emoji_name": emoji}
        )
        [reacted] = await self._messages([await self.api.get(f"posts/{message_id}")])
        return reacted

    async def _search(
        self, terms: str, limit: int, cursor: str | None, channel: _Channel | None = None
    ) -> MessagePage:
        """``POST /teams/{id}/posts/search`` in each team at once, merged newest first.

        Without Elasticsearch, Mattermost's database search answers only page 0 (later pages
        are empty), so every call asks each team for page 0 up to the end of the window and
        keeps the window: the newest :data:`_MAX_SEARCH` matches per team can be paged through.
        """
        offset = read_offset(cursor)
        want = offset + limit
        if offset >= _MAX_SEARCH:
            return MessagePage(messages=[], next_cursor=None)
        teams = [team["id"] for team in await self._teams()]
        if channel is not None:
            # A direct or group channel is in no team: any one team's search finds its posts.
            teams = [channel.team_id] if channel.team_id else teams[:1]
        per_page = min(want, _MAX_SEARCH)
        body = {"terms": terms, "is_or_search": False, "page": 0, "per_page": per_page}
        answers = await asyncio.gather(
            *(self.api.post(f"teams/{team}/posts/search", body) for team in teams)
        )
        # Direct and group posts belong to no team: every team's search finds them.
        merged = {post["id"]: post for answer in answers for post in _flatten(answer)}
        posts = sorted(merged.values(), key=lambda post: post["create_at"], reverse=True)
        if channel is not None:
            posts = [post for post in posts if post["channel_id"] == channel.id]
        full = any(len(answer.get("order") or []) >= per_page for answer in answers)
        more = (len(posts) > want or full) and want < _MAX_SEARCH
        window = await self._messages(posts[offset:want])
        return MessagePage(messages=window, next_cursor=offset_cursor(want, more))

    async def search(
        self, query: str, channel_id: str | None, limit: int, cursor: str | None
    ) -> MessagePage:
        """``POST /teams/{id}/posts/search`` in each of the user's teams (``in:`` a channel)."""
        if channel_id is None:
            return await self._search(query, limit, cursor)
        channel = await self._channel(self._check_id(channel_id, "channel"))
        terms = f"{query} in:{channel.handle}" if channel.kind in ("public", "private") else query
        return await self._search(terms, limit, cursor, channel)

    async def users(self, limit: int, cursor: str | None) -> UserPage:
        """``GET /users`` (active users), page by page."""
        offset = read_offset(cursor)

        async def fetch(page: int, per_page: int) -> list[dict[str, Any]]:
            users: list[dict[str, Any]] = await self.api.get(
                "users", page=page, per_page=per_page, active=True
            )
            return users

        users, more = await numbered_window(fetch, offset, limit)
        for user in users:
            self._users.put(user["id"], user)
        return UserPage(
            users=[_user(user) for user in users],
            next_cursor=offset_cursor(offset + len(users), more),
        )

    async def mentions(self, limit: int, cursor: str | None) -> MessagePage:
        """A search for the user's ``@username`` (what Mattermost's Recent Mentions does)."""
        me = await self._myself()
        return await self._search(f"@{me['username']}", limit, cursor)

    async def catch_up(self, per_channel: int, max_channels: int) -> CatchUp:
        """Each team's channels and the user's memberships, then the unread channels' posts."""
        me = await self._myself()
        teams = await self._teams()
        listed = await asyncio.gather(
            *(self.api.get(f"users/me/teams/{team['id']}/channels") for team in teams),
            *(self.api.get(f"users/me/teams/{team['id']}/channels/members") for team in teams),
        )
        half = len(teams)
        channels = {
            c["id"]: c for found in listed[:half] for c in found or [] if not c.get("delete_at")
        }
        members = {m["channel_id"]: m for found in listed[half:] for m in found or []}
        checked = sorted(
            (c for c in channels.values() if c["id"] in members),
            key=lambda c: -int(c.get("last_post_at") or 0),
        )[:max_channels]
        names = {entry.id: entry.name for entry in await self._describe(checked)}
        mention = re.compile(rf"@{re.escape(me['username'])}\b", re.IGNORECASE)

        async def news(channel: dict[str, Any]) -> ChannelNews | None:
            member = members[channel["id"]]
            unread = int(channel.get("total_msg_count") or 0) - int(member.get("msg_count") or 0)
            if unread <= 0:
                return None
            page = await self.api.get(
                f"channels/{channel['id']}/posts", page=0, per_page=per_channel
            )
            seen_at = int(member.get("last_viewed_at") or 0)
            posts = [
                post
                for post in _flatten(page)
                if post["create_at"] > seen_at and not _is_system(post)
            ][: min(unread, per_channel)]
            latest = await self._messages(posts)
            return ChannelNews(
                channel_id=channel["id"],
                channel_name=names[channel["id"]],
                unread_count=unread,
                mentions_of_me=sum(1 for post in posts if mention.search(post.get("message", ""))),
                latest=latest,
            )

        found = await asyncio.gather(*(news(channel) for channel in checked))
        busy = sorted(
            (item for item in found if item is not None),
            key=lambda item: (-item.mentions_of_me, -item.unread_count),
        )
        return CatchUp(
            channels_checked=len(checked),
            total_unread=sum(item.unread_count for item in busy),
            channels=busy,
            note=(
                "Unread counts are Mattermost's (the channel's messages minus those the user "
                "has seen); nothing is marked as read."
            ),
        )

    async def mark_read(self, channel_id: str) -> MarkedRead:
        """``POST /channels/members/me/view``: the channel is read up to now."""
        await self.api.post(
            "channels/members/me/view", {"channel_id": self._check_id(channel_id, "channel")}
        )
        return MarkedRead(channel_id=channel_id, marked_read=True)
