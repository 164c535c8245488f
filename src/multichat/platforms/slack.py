"""Slack (https://docs.slack.dev): the shared chat tools as Slack Web API calls.

The provider acts as the signed-in user with a user token (``xoxp-``), or as a bot with a bot
token (``xoxb-``), which Slack does not let search: then ``search_messages`` and
``get_my_mentions`` are absent and ``provider_info`` says why (:meth:`Adapter.unavailable`).
Message ids carry the channel and the ``ts`` (``C012AB3CD:1512085950.000216``). Text goes out as
mrkdwn and comes back as Markdown with people and channels by name. What each tool calls, the
scopes and the limits: docs/platforms/slack.md.
"""

from __future__ import annotations

import asyncio
import datetime
import hashlib
import re
from collections.abc import AsyncIterator, Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qs, urlsplit

from multichat.chat.adapter import ChatAdapter
from multichat.chat.cache import BoundedCache
from multichat.chat.markup._reading import split_code
from multichat.chat.markup.limits import SLACK
from multichat.chat.markup.slack import from_mrkdwn, to_mrkdwn
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
from multichat.platforms.slack_names import SlackNames
from multichat.platforms.slack_web import (
    SlackError,
    call,
    check_channel_id,
    message_id,
    parse_message_id,
    stored_token_kind,
    to_ts,
    ts_time,
)

#: Tool kinds -> conversations.list ``types`` (https://docs.slack.dev/reference/methods/conversations.list).
SLACK_TYPES: Mapping[ChannelKind, str] = {
    "public": "public_channel",
    "private": "private_channel",
    "direct": "im",
    "group": "mpim",
}
ALL_TYPES = ",".join(SLACK_TYPES.values())
#: conversations.history answers at most 15 messages per call to commercially distributed apps
#: outside the Marketplace since 2025-05-29, and 1 call a minute
#: (https://docs.slack.dev/reference/methods/conversations.history, "Rate limits"). catch_up
#: never asks for more per channel, so it stays inside that ``limit`` for every kind of app.
CATCH_UP_HISTORY_LIMIT = 15
#: search.messages ``count``: "Maximum of 100" (slack_web_openapi_v2.json, /search.messages).
SEARCH_COUNT_MAX = 100
#: users.conversations / conversations.list pages: Slack recommends no more than 200
#: (https://docs.slack.dev/apis/web-api/pagination#cursors).
PAGE_SIZE = 200
#: ``last_read`` of a conversation the user never read (conversations.info example answers).
NEVER_READ = "0000000000.000000"

BOT_REASON = (
    "Slack does not let bot tokens (xoxb-) search messages (search.messages takes user tokens "
    "only); sign in with a user token (xoxp-) to use it"
)
_HANDLE = re.compile(r"(?<![\w@<&/.])@([a-z0-9](?:[a-z0-9._-]*[a-z0-9_-])?)", re.IGNORECASE)


def _kind(raw: Mapping[str, Any]) -> ChannelKind:
    if raw.get("is_im"):
        return "direct"
    if raw.get("is_mpim"):
        return "group"
    if raw.get("is_private") or raw.get("is_group"):
        return "private"
    return "public"


def _next_cursor(answer: Mapping[str, Any]) -> str | None:
    """``response_metadata.next_cursor``; Slack sends an empty string on the last page."""
    return str((answer.get("response_metadata") or {}).get("next_cursor") or "") or None


def _read_up_to_latest(info: Mapping[str, Any]) -> bool:
    """Whether conversations.info shows the newest message (``latest``, when given) as read."""
    latest = info.get("latest")
    if not isinstance(latest, Mapping) or not latest.get("ts"):
        return False
    try:
        return Decimal(str(latest["ts"])) <= Decimal(str(info["last_read"]))
    except (InvalidOperation, ValueError):
        return False


class Adapter(ChatAdapter):
    """Slack's Web API (``https://slack.com/api``), as a user (``xoxp-``) or a bot (``xoxb-``)."""

    platform = "slack"
    display_name = "Slack"
    message_limit = SLACK
    extra_tools = frozenset({"mark_read"})
    #: Requests in flight per tool call: catch_up's conversations.info and history calls are
    #: Tier 3 (50+ a minute, https://docs.slack.dev/apis/web-api/rate-limits); 8 at once keeps
    #: a burst small, and a 429's Retry-After is honoured by the client.
    max_concurrency = 8

    def __init__(self, provider: str) -> None:
        """Bind to ``provider``; names and the signed-in user are learnt on first use."""
        super().__init__(provider)
        self.names = SlackNames()
        #: auth.test's answer per token (a hash of it), so a new sign-in is noticed.
        self._me: BoundedCache[str, ChatUser] = BoundedCache(4)

    # ---- what this provider serves ------------------------------------------------------------

    def unavailable(self) -> Mapping[str, str]:
        """With a bot token, search and mentions are absent (Slack's search takes user tokens).

        The kind is read from the token's prefix (environment, then token file), with no
        request: the tool list is fixed when the server starts.
        """
        if stored_token_kind(self.provider) != "bot":
            return {}
        return {
            "search_messages": BOT_REASON,
            "get_my_mentions": (
                "a bot has no mentions of a person to list, and Slack does not let bot tokens "
                "search; sign in with a user token (xoxp-) to use it"
            ),
        }

    def to_platform(self, markdown: str) -> str:
        """Markdown -> mrkdwn; ``@handle`` of a person seen before becomes a real ``<@U…>``.

        Only handles already met (in list_users, a message's author, whoami) are linked; other
        ``@words`` stay text, and Slack's ``link_names`` is not used, so ``@channel`` and
        ``@here`` never notify anyone.
        """
        pieces = []
        for piece, is_code in split_code(to_mrkdwn(markdown)):
            pieces.append(piece if is_code else _HANDLE.sub(self._mention, piece))
        return "".join(pieces)

    def _mention(self, match: re.Match[str]) -> str:
        user_id = self.names.user_id(match.group(1))
        return f"<@{user_id}>" if user_id else match.group(0)

    # ---- reading ------------------------------------------------------------------------------

    async def whoami(self) -> ChatUser:
        """``auth.test``, then ``users.info`` for the name."""
        api = self.api
        answer = await call(api, "auth.test")
        user_id = str(answer["user_id"])
        await self.names.learn(api, [user_id])
        known = self.names.users.get(user_id)
        return ChatUser(
            id=user_id,
            username=str(answer.get("user") or user_id),
            name=known.name if known else str(answer.get("user") or user_id),
            is_bot=bool(answer.get("bot_id")) or bool(known and known.is_bot),
        )

    async def list_channels(
        self, kinds: list[ChannelKind] | None, limit: int, cursor: str | None
    ) -> ChannelPage:
        """``conversations.list`` (archived channels left out)."""
        types = ",".join(SLACK_TYPES[kind] for kind in kinds) if kinds else ALL_TYPES
        api = self.api
        answer = await call(
            api,
            "conversations.list",
            types=types,
            exclude_archived=True,
            limit=limit,
            cursor=cursor,
        )
        raw = answer["channels"]
        names = await self.names.remember_conversations(api, raw)
        channels = [
            ChatChannel(
                id=item["id"],
                name=name,
                kind=_kind(item),
                topic=str((item.get("topic") or {}).get("value") or ""),
                is_member=bool(item.get("is_member") or item.get("is_im")),
                member_count=item.get("num_members"),
            )
            for item, name in zip(raw, names, strict=True)
        ]
        return ChannelPage(channels=channels, next_cursor=_next_cursor(answer))

    async def channel_history(
        self,
        channel_id: str,
        limit: int,
        cursor: str | None,
        oldest: datetime.datetime | None,
        latest: datetime.datetime | None,
    ) -> MessagePage:
        """``conversations.history`` (newest first; thread replies stay in their threads)."""
        channel = check_channel_id(channel_id)
        answer = await call(
            self.api,
            "conversations.history",
            channel=channel,
            limit=limit,
            cursor=cursor,
            oldest=to_ts(oldest) if oldest else None,
            latest=to_ts(latest) if latest else None,
        )
        messages = await self._messages(channel, answer["messages"])
        return MessagePage(messages=messages, next_cursor=_next_cursor(answer))

    async def thread(self, message_id: str, limit: int, cursor: str | None) -> ChatThread:
        """``conversations.replies``: the root and its replies, oldest first.

        Any message of the thread names it: given a reply, the whole thread comes back.
        """
        channel, ts = parse_message_id(message_id)
        api = self.api
        answer = await call(
            api, "conversations.replies", channel=channel, ts=ts, limit=limit, cursor=cursor
        )
        raw = answer["messages"]
        root_ts = str(raw[0].get("thread_ts") or raw[0]["ts"]) if raw else ts
        root = next((item for item in raw if item["ts"] == root_ts), None)
        if root is None:  # a later page may leave the root out
            first = await call(api, "conversations.replies", channel=channel, ts=root_ts, limit=1)
            root = first["messages"][0]
        replies = [item for item in raw if item["ts"] != root_ts]
        converted = await self._messages(channel, [root, *replies])
        return ChatThread(
            root=converted[0], replies=converted[1:], next_cursor=_next_cursor(answer)
        )

    async def search(
        self, query: str, channel_id: str | None, limit: int, cursor: str | None
    ) -> MessagePage:
        """``search.messages`` (user tokens only), best matches first.

        A channel narrows the query with ``in:<#C…>``, Slack's own form of ``in:#name``.
        """
        if channel_id is not None:
            query = f"{query} in:<#{check_channel_id(channel_id)}>"
        return await self._search(query, limit, cursor, sort=None)

    async def users(self, limit: int, cursor: str | None) -> UserPage:
        """``users.list`` (deactivated accounts left out)."""
        answer = await call(self.api, "users.list", limit=limit, cursor=cursor)
        users = [self.names.remember_user(raw) for raw in answer["members"]]
        active = [
            user
            for user, raw in zip(users, answer["members"], strict=True)
            if not raw.get("deleted")
        ]
        return UserPage(users=active, next_cursor=_next_cursor(answer))

    async def mentions(self, limit: int, cursor: str | None) -> MessagePage:
        """``search.messages`` for ``<@me>``, newest first (Slack has no mentions method)."""
        me = await self._signed_in()
        return await self._search(f"<@{me.id}>", limit, cursor, sort="timestamp")

    async def catch_up(self, per_channel: int, max_channels: int) -> CatchUp:
        """Each conversation's ``last_read`` and the messages after it, a few at a time.

        ``users.conversations``, then per conversation ``conversations.info`` and, where
        something may be unread, ``conversations.history`` with ``limit`` at most
        :data:`CATCH_UP_HISTORY_LIMIT`: Slack's unread count (or ``per_channel``, if fewer) where
        Slack gives one, else the most one call brings, to count them.
        """
        api = self.api
        member: list[dict[str, Any]] = []
        async for item in self._pages(
            "users.conversations",
            "channels",
            max_channels,
            types=ALL_TYPES,
            exclude_archived=True,
            limit=PAGE_SIZE,
        ):
            member.append(item)
        me, _ = await asyncio.gather(
            self._signed_in(), self.names.remember_conversations(api, member)
        )
        found = await asyncio.gather(*(self._news(c["id"], per_channel, me.id) for c in member))
        news = [item for item in found if item is not None]
        news.sort(key=lambda item: (-item.mentions_of_me, -item.unread_count))
        return CatchUp(
            channels_checked=len(member),
            total_unread=sum(item.unread_count for item in news),
            channels=news,
            note=(
                "From each conversation's read marker (last_read); nothing is marked as read. "
                "Where Slack gives no unread count, counting stops at "
                f"{CATCH_UP_HISTORY_LIMIT} per conversation."
            ),
        )

    async def _news(self, channel: str, per_channel: int, me: str) -> ChannelNews | None:
        api = self.api
        info = (await call(api, "conversations.info", channel=channel))["channel"]
        last_read = info.get("last_read")
        if not last_read:
            return None  # no read marker (bots keep none): nothing can be called unread
        count = info.get("unread_count_display")
        known = count if isinstance(count, int) and not isinstance(count, bool) else None
        if known == 0 or _read_up_to_latest(info):
            return None
        # With Slack's count, fetch only what is shown; without it, fetch as many as one call
        # may bring (15), to count them.
        limit = min(known, per_channel) if known else CATCH_UP_HISTORY_LIMIT
        history = await call(
            api,
            "conversations.history",
            channel=channel,
            oldest=None if last_read == NEVER_READ else last_read,
            limit=min(limit, CATCH_UP_HISTORY_LIMIT),
        )
        raw = history["messages"]
        if not raw:
            return None
        shown = raw[:per_channel]
        return ChannelNews(
            channel_id=channel,
            channel_name=self.names.channel_name(channel) or channel,
            unread_count=known if known else len(raw),
            mentions_of_me=sum(1 for item in shown if f"<@{me}>" in str(item.get("text") or "")),
            latest=await self._messages(channel, shown),
        )

    # ---- writing ------------------------------------------------------------------------------

    async def send(self, channel_id: str, text: str) -> ChatMessage:
        """``chat.postMessage``."""
        channel = check_channel_id(channel_id)
        body = self.outgoing(text)
        answer = await call(self.api, "chat.postMessage", write=True, channel=channel, text=body)
        return (await self._messages(str(answer["channel"]), [answer["message"]]))[0]

    async def reply(self, message_id: str, text: str) -> ChatMessage:
        """The root (``conversations.replies``), then ``chat.postMessage`` with ``thread_ts``.

        Slack asks for the thread root's ts there, not a reply's.
        """
        channel, ts = parse_message_id(message_id)
        body = self.outgoing(text)
        api = self.api
        found = await call(api, "conversations.replies", channel=channel, ts=ts, limit=1)
        first = found["messages"][0]
        root = str(first.get("thread_ts") or first["ts"])
        answer = await call(
            api, "chat.postMessage", write=True, channel=channel, text=body, thread_ts=root
        )
        return (await self._messages(str(answer["channel"]), [answer["message"]]))[0]

    async def edit(self, message_id: str, text: str) -> ChatMessage:
        """``chat.update`` (Slack lets people edit only their own messages)."""
        channel, ts = parse_message_id(message_id)
        body = self.outgoing(text)
        api = self.api
        answer = await call(api, "chat.update", write=True, channel=channel, ts=ts, text=body)
        updated = answer.get("message") or {}
        me = await self._signed_in()
        raw = {
            "type": "message",
            "ts": str(answer["ts"]),
            "user": updated.get("user") or me.id,
            "text": updated.get("text", answer.get("text", "")),
            "edited": {"user": me.id, "ts": str(answer["ts"])},
        }
        return (await self._messages(str(answer["channel"]), [raw]))[0]

    async def delete(self, message_id: str) -> Deleted:
        """``chat.delete``."""
        channel, ts = parse_message_id(message_id)
        await call(self.api, "chat.delete", write=True, channel=channel, ts=ts)
        return Deleted(message_id=message_id, deleted=True)

    async def react(self, message_id: str, emoji: str) -> ChatMessage:
        """``reactions.add`` (``already_reacted`` counts as done), then ``reactions.get``."""
        channel, ts = parse_message_id(message_id)
        api = self.api
        try:
            await call(api, "reactions.add", write=True, channel=channel, timestamp=ts, name=emoji)
        except SlackError as exc:
            if exc.code != "already_reacted":
                raise
        answer = await call(api, "reactions.get", channel=channel, timestamp=ts, full=True)
        return (await self._messages(channel, [answer["message"]]))[0]

    async def mark_read(self, channel_id: str) -> MarkedRead:
        """The newest message (``conversations.history``), then ``conversations.mark``."""
        channel = check_channel_id(channel_id)
        api = self.api
        newest = await call(api, "conversations.history", channel=channel, limit=1)
        if newest["messages"]:
            ts = newest["messages"][0]["ts"]
            await call(api, "conversations.mark", write=True, channel=channel, ts=ts)
        return MarkedRead(channel_id=channel, marked_read=True)

    # ---- helpers ------------------------------------------------------------------------------

    async def _signed_in(self) -> ChatUser:
        """Who the current token belongs to: ``auth.test`` once per token."""
        from multichat.runtime.token_access import provider_auth

        credentials = await provider_auth(self.provider).arequire_credentials()
        key = hashlib.sha256(str(credentials.get("access_token")).encode()).hexdigest()
        me = self._me.get(key)
        if me is None:
            me = await self.whoami()
            self._me.put(key, me)
        return me

    async def _search(
        self, query: str, limit: int, cursor: str | None, sort: str | None
    ) -> MessagePage:
        if cursor is not None and not cursor.isdigit():
            raise UserError(f"{cursor[:40]!r} is not a search cursor: pass next_cursor as given")
        page = int(cursor) if cursor else 1
        answer = await call(
            self.api,
            "search.messages",
            query=query,
            count=min(limit, SEARCH_COUNT_MAX),
            page=page,
            sort=sort,
            sort_dir="desc" if sort else None,
        )
        found = answer.get("messages") or {}
        matches = found.get("matches") or []
        by_channel: dict[str, list[dict[str, Any]]] = {}
        for match in matches:
            channel = match.get("channel") or {}
            if channel.get("name") and not channel.get("is_im"):
                self.names.channels.put(str(channel["id"]), str(channel["name"]))
            by_channel.setdefault(str(channel.get("id")), []).append(_with_thread(match))
        pages = await asyncio.gather(*(self._messages(c, raw) for c, raw in by_channel.items()))
        converted = {
            (channel, str(item["ts"])): result
            for (channel, raw), page in zip(by_channel.items(), pages, strict=True)
            for item, result in zip(raw, page, strict=True)
        }
        messages = [
            converted[str((match.get("channel") or {}).get("id")), str(match["ts"])]
            for match in matches
        ]
        paging = found.get("paging") or {}
        more = int(paging.get("page") or page) < int(paging.get("pages") or 0)
        return MessagePage(messages=messages, next_cursor=str(page + 1) if more else None)

    async def _pages(
        self, method: str, key: str, max_items: int, **arguments: Any
    ) -> AsyncIterator[dict[str, Any]]:
        """Items across cursor pages of ``method``, at most ``max_items``."""
        seen = 0
        cursor: str | None = None
        while True:
            answer = await call(self.api, method, cursor=cursor, **arguments)
            for item in answer[key]:
                yield item
                seen += 1
                if seen >= max_items:
                    return
            cursor = _next_cursor(answer)
            if cursor is None:
                return

    async def _messages(self, channel: str, raw: Iterable[Mapping[str, Any]]) -> list[ChatMessage]:
        """Slack messages of one channel as the tools show them, names looked up first."""
        items = list(raw)
        await self.names.learn_from_messages(self.api, items, [channel])
        return [self._message(channel, item) for item in items]

    def _message(self, channel: str, raw: Mapping[str, Any]) -> ChatMessage:
        ts = str(raw["ts"])
        thread_ts = raw.get("thread_ts")
        user = str(raw.get("user") or "")
        bot_name = (raw.get("bot_profile") or {}).get("name")
        author = (
            (self.names.user_name(user) if user else None)
            or raw.get("username")
            or bot_name
            or user
            or str(raw.get("bot_id") or "")
        )
        text = from_mrkdwn(
            str(raw.get("text") or ""), self.names.user_name, self.names.channel_name
        )
        return message(
            id=message_id(channel, ts),
            channel_id=channel,
            channel_name=self.names.channel_name(channel) or channel,
            author_id=user or str(raw.get("bot_id") or ""),
            author=str(author),
            sent_at=ts_time(ts),
            edited=bool(raw.get("edited")),
            thread_id=message_id(channel, str(thread_ts))
            if thread_ts and thread_ts != ts
            else None,
            reply_count=int(raw.get("reply_count") or 0),
            reactions={r["name"]: int(r.get("count") or 0) for r in raw.get("reactions") or []},
            text=text,
        )


def _with_thread(match: Mapping[str, Any]) -> dict[str, Any]:
    """A search match with its ``thread_ts``, which Slack gives only in the permalink's query."""
    raw = dict(match)
    if "thread_ts" not in raw and raw.get("permalink"):
        found = parse_qs(urlsplit(str(raw["permalink"])).query).get("thread_ts")
        if found:
            raw["thread_ts"] = found[0]
    return raw
