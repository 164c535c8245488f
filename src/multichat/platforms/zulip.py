"""Zulip (API v1) as the shared chat tools, signed in with the user's email and API key.

Zulip's model is channels (streams) and topics, and a topic is the thread: a channel id is a
Zulip channel's id (``12``) or a direct-message conversation, ``dm:8,15`` (the other people's
user ids); a message shows its topic in its channel name (``general > deploys``);
``get_thread`` and ``reply_to_thread`` take any message of a topic; ``send_message`` takes the
topic. Message ids are Zulip's (global). Every read asks for ``apply_markdown=false``, so text
comes back as the Markdown people wrote. Writes send their parameters as a form, lists and
narrows JSON-encoded, as the curl examples on Zulip's API pages do. What each tool calls is in
docs/platforms/zulip.md. Needs Zulip Server 7.0 or later (the ``dm`` narrow and the ``direct``
message type).
"""

from __future__ import annotations

import asyncio
import datetime
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from multichat.chat.adapter import ChatAdapter, iso
from multichat.chat.markup.limits import ZULIP
from multichat.chat.markup.zulip import from_zulip, to_zulip
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
from multichat.platforms._pages import Batch, newest_first, offset_cursor, read_offset
from multichat.runtime.platform_client import PlatformError

_NUMBER = re.compile(r"[1-9]\d{0,18}\Z")
_DM = re.compile(r"dm:(\d{1,19}(?:,\d{1,19}){0,99})\Z")
#: https://zulip.com/api/send-message, ``topic``: "Maximum length of 60 characters"
#: (the server's ``max_topic_length``, 60 by default).
MAX_TOPIC = 60
#: https://zulip.com/api/get-messages: "We recommend requesting at most 1000 messages in a
#: batch" (5000 is the most one request may ask for).
BATCH = 1000
#: Recent direct messages read to list the direct conversations (Zulip has no list of them).
RECENT_DIRECT = 200
#: Batches of 1000 that mark_read may mark before it stops (a channel of 50,000 unread).
MAX_MARK_ROUNDS = 50
#: Flags that say a message mentions the user (https://zulip.com/api/update-message-flags,
#: "Available flags"): by name, or by @all / @channel / @topic.
_MENTION_FLAGS = frozenset(
    {"mentioned", "wildcard_mentioned", "stream_wildcard_mentioned", "topic_wildcard_mentioned"}
)


@dataclass(frozen=True)
class _Conversation:
    """A channel id decoded: a Zulip channel, or the other people of a direct conversation."""

    stream_id: int | None = None
    user_ids: tuple[int, ...] = ()

    def narrow(self) -> list[dict[str, Any]]:
        """The narrow of this conversation (https://zulip.com/api/construct-narrow)."""
        if self.stream_id is not None:
            return [{"operator": "stream", "operand": self.stream_id}]
        return [{"operator": "dm", "operand": list(self.user_ids)}]


def _conversation(channel_id: str) -> _Conversation:
    if _NUMBER.match(channel_id):
        return _Conversation(stream_id=int(channel_id))
    direct = _DM.match(channel_id)
    if direct:
        return _Conversation(user_ids=tuple(sorted({int(part) for part in direct[1].split(",")})))
    raise UserError(
        f"{channel_id!r} is not a Zulip channel id: a channel's number (12) or dm:USER_IDS "
        "(dm:8,15), as list_channels gives them"
    )


def _message_id(value: str) -> int:
    if not _NUMBER.match(value):
        raise UserError(f"{value!r} is not a Zulip message id (a number, as other tools give it)")
    return int(value)


def _sent(raw: dict[str, Any]) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(raw["timestamp"], datetime.UTC)


def _is_stream(raw: dict[str, Any]) -> bool:
    return "stream_id" in raw


def _user(raw: dict[str, Any]) -> ChatUser:
    # Zulip has no usernames: people are @-mentioned by full name (@**Ada Lovelace**).
    return ChatUser(
        id=str(raw["user_id"]),
        username=raw.get("email", ""),
        name=raw.get("full_name", ""),
        is_bot=bool(raw.get("is_bot")),
    )


def _reactions(raw: dict[str, Any]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for reaction in raw.get("reactions") or []:
        counts[reaction["emoji_name"]] = counts.get(reaction["emoji_name"], 0) + 1
    return counts


class Adapter(ChatAdapter):
    """Zulip's REST API (``api_base_url`` is ``https://ORG.zulipchat.com/api/v1``)."""

    platform = "zulip"
    display_name = "Zulip"
    message_limit = ZULIP
    extra_tools = frozenset({"mark_read"})
    topic_argument = (
        "The topic to post under, at most 60 characters: required for a channel (an existing "
        "topic continues it, a new one starts it); leave it out for a dm:... conversation."
    )

    def __init__(self, provider: str) -> None:
        """Bind to ``provider``; the user's id is looked up once."""
        super().__init__(provider)
        self._me: dict[str, Any] | None = None

    def to_platform(self, markdown: str) -> str:
        """Zulip's Markdown (``@**Name**`` mentions pass through)."""
        return to_zulip(markdown)

    # ---- requests and shapes ----------------------------------------------------------------

    async def _myself(self) -> dict[str, Any]:
        if self._me is None:
            self._me = await self.api.get("users/me")
        return self._me

    async def _form(self, method: str, path: str, form: dict[str, Any]) -> Any:
        """A write with its parameters as a form (how Zulip's API takes them)."""
        return await self.api.request(method, path, form=form)

    async def _get_messages(
        self,
        narrow: list[dict[str, Any]],
        anchor: int | str,
        num_before: int,
        num_after: int,
    ) -> dict[str, Any]:
        """``GET /messages`` (https://zulip.com/api/get-messages), text as Markdown."""
        answer: dict[str, Any] = await self.api.get(
            "messages",
            anchor=str(anchor),
            include_anchor=False if isinstance(anchor, int) else None,
            num_before=num_before,
            num_after=num_after,
            narrow=json.dumps(narrow),
            apply_markdown=False,
        )
        return answer

    async def _fetch(self, message_id: int) -> dict[str, Any]:
        """``GET /messages/{id}`` (https://zulip.com/api/get-message)."""
        answer = await self.api.get(f"messages/{message_id}", apply_markdown=False)
        raw: dict[str, Any] = answer["message"]
        return raw

    def _key(self, raw: dict[str, Any], me: int) -> tuple[str, str, ChannelKind]:
        """A message's channel id, channel name and kind."""
        if _is_stream(raw):
            return str(raw["stream_id"]), f"{raw['display_recipient']} > {raw['subject']}", "public"
        people = raw.get("display_recipient") or []
        others = [person for person in people if person["id"] != me] or people
        ids = ",".join(str(person["id"]) for person in sorted(others, key=lambda p: p["id"]))
        names = ", ".join(person["full_name"] for person in others)
        return f"dm:{ids}", names, "direct" if len(others) <= 1 else "group"

    def _message(self, raw: dict[str, Any], me: int) -> ChatMessage:
        channel_id, channel_name, _ = self._key(raw, me)
        return message(
            id=str(raw["id"]),
            channel_id=channel_id,
            channel_name=channel_name,
            author_id=str(raw["sender_id"]),
            author=raw.get("sender_full_name", ""),
            sent_at=iso(_sent(raw)),
            edited=raw.get("last_edit_timestamp") is not None,
            reactions=_reactions(raw),
            text=from_zulip(raw.get("content", "")),
        )

    async def _messages(self, raws: Iterable[dict[str, Any]]) -> list[ChatMessage]:
        me = int((await self._myself())["user_id"])
        return [self._message(raw, me) for raw in raws]

    async def _newest_first(
        self, narrow: list[dict[str, Any]], limit: int, cursor: str | None, **window: Any
    ) -> MessagePage:
        """Messages of ``narrow``, newest first, paging back from ``cursor`` (a message id)."""
        if cursor is not None:
            _message_id(cursor)
        size = BATCH if window.get("oldest") or window.get("latest") else limit

        async def fetch(before: str | None) -> Batch[dict[str, Any]]:
            anchor: int | str = int(before) if before is not None else "newest"
            answer = await self._get_messages(narrow, anchor, size, 0)
            return Batch(list(reversed(answer["messages"])), bool(answer.get("found_oldest")))

        raws, next_cursor = await newest_first(
            fetch,
            limit=limit,
            cursor=cursor,
            key=lambda raw: str(raw["id"]),
            sent=_sent,
            **window,
        )
        return MessagePage(messages=await self._messages(raws), next_cursor=next_cursor)

    # ---- the twelve jobs ------------------------------------------------------------------

    async def whoami(self) -> ChatUser:
        """``GET /users/me``."""
        self._me = None
        return _user(await self._myself())

    async def list_channels(
        self, kinds: list[ChannelKind] | None, limit: int, cursor: str | None
    ) -> ChannelPage:
        """``GET /users/me/subscriptions``; direct conversations from recent direct messages."""
        offset = read_offset(cursor)
        wanted = set(kinds or ("public", "private", "direct", "group"))
        streams, directs = await asyncio.gather(
            self._subscriptions() if wanted & {"public", "private"} else _nothing(),
            self._direct_conversations() if wanted & {"direct", "group"} else _nothing(),
        )
        channels = [channel for channel in [*streams, *directs] if channel.kind in wanted]
        page = channels[offset : offset + limit]
        more = offset + limit < len(channels)
        return ChannelPage(channels=page, next_cursor=offset_cursor(offset + limit, more))

    async def _subscriptions(self) -> list[ChatChannel]:
        answer = await self.api.get("users/me/subscriptions")
        channels = [
            ChatChannel(
                id=str(sub["stream_id"]),
                name=sub["name"],
                kind="private" if sub.get("invite_only") else "public",
                topic=sub.get("description", ""),
                is_member=True,
                member_count=sub.get("subscriber_count"),
            )
            for sub in answer["subscriptions"]
        ]
        return sorted(channels, key=lambda channel: channel.name.lower())

    async def _direct_conversations(self) -> list[ChatChannel]:
        me = int((await self._myself())["user_id"])
        answer = await self._get_messages(
            [{"operator": "is", "operand": "dm"}], "newest", RECENT_DIRECT, 0
        )
        newest: dict[str, ChatChannel] = {}
        for raw in reversed(answer["messages"]):
            channel_id, name, kind = self._key(raw, me)
            if channel_id not in newest:
                newest[channel_id] = ChatChannel(
                    id=channel_id,
                    name=name,
                    kind=kind,
                    is_member=True,
                    last_message_at=iso(_sent(raw)),
                )
        return list(newest.values())

    async def channel_history(
        self,
        channel_id: str,
        limit: int,
        cursor: str | None,
        oldest: datetime.datetime | None,
        latest: datetime.datetime | None,
    ) -> MessagePage:
        """``GET /messages`` narrowed to the channel, every topic, back from the newest."""
        narrow = _conversation(channel_id).narrow()
        return await self._newest_first(narrow, limit, cursor, oldest=oldest, latest=latest)

    async def thread(self, message_id: str, limit: int, cursor: str | None) -> ChatThread:
        """The message's topic (``GET /messages`` narrowed to channel and topic), oldest first.

        The topic's first message is the root; any message of the topic names the thread.
        """
        raw = await self._fetch(_message_id(message_id))
        if not _is_stream(raw):
            raise UserError(
                f"{message_id} is a direct message, and direct conversations have no topics: "
                "read it with get_channel_history"
            )
        narrow = [
            {"operator": "stream", "operand": raw["stream_id"]},
            {"operator": "topic", "operand": raw["subject"]},
        ]
        if cursor is None:
            answer = await self._get_messages(narrow, "oldest", 0, limit)
            if not answer["messages"]:
                raise UserError(f"Zulip gave no messages for the topic of {message_id}")
            root, *replies = answer["messages"]
        else:
            first, answer = await asyncio.gather(
                self._get_messages(narrow, "oldest", 0, 0),
                self._get_messages(narrow, _message_id(cursor), 0, limit),
            )
            root, replies = first["messages"][0], answer["messages"]
        more = not answer.get("found_newest") and bool(replies)
        shown_root, *shown = await self._messages([root, *replies])
        return ChatThread(
            root=shown_root, replies=shown, next_cursor=shown[-1].id if more and shown else None
        )

    async def send(self, channel_id: str, text: str) -> ChatMessage:
        """A channel message needs a topic: see :meth:`send_in_topic`."""
        return await self.send_in_topic(channel_id, text, None)

    async def send_in_topic(self, channel_id: str, text: str, topic: str | None) -> ChatMessage:
        """``POST /messages``: to a channel under ``topic``, or to a direct conversation."""
        content = self.outgoing(text)
        conversation = _conversation(channel_id)
        if conversation.stream_id is None:
            form = {"type": "direct", "to": json.dumps(list(conversation.user_ids))}
        else:
            form = {"type": "stream", "to": str(conversation.stream_id), "topic": _topic(topic)}
        return await self._post({**form, "content": content})

    async def _post(self, form: dict[str, Any]) -> ChatMessage:
        sent = await self._form("POST", "messages", form)
        [shown] = await self._messages([await self._fetch(int(sent["id"]))])
        return shown

    async def reply(self, message_id: str, text: str) -> ChatMessage:
        """The message (for its channel and topic), then ``POST /messages`` there."""
        content = self.outgoing(text)
        raw = await self._fetch(_message_id(message_id))
        if _is_stream(raw):
            form = {"type": "stream", "to": str(raw["stream_id"]), "topic": raw["subject"]}
        else:
            me = int((await self._myself())["user_id"])
            people = [person["id"] for person in raw["display_recipient"]]
            others = [person for person in people if person != me] or people
            form = {"type": "direct", "to": json.dumps(sorted(others))}
        return await self._post({**form, "content": content})

    async def edit(self, message_id: str, text: str) -> ChatMessage:
        """``PATCH /messages/{id}`` with the new ``content``."""
        content = self.outgoing(text)
        number = _message_id(message_id)
        await self._form("PATCH", f"messages/{number}", {"content": content})
        [shown] = await self._messages([await self._fetch(number)])
        return shown

    async def delete(self, message_id: str) -> Deleted:
        """``DELETE /messages/{id}``."""
        await self.api.delete(f"messages/{_message_id(message_id)}")
        return Deleted(message_id=message_id, deleted=True)

    async def react(self, message_id: str, emoji: str) -> ChatMessage:
        """``POST /messages/{id}/reactions``; the same reaction again is not an error here."""
        number = _message_id(message_id)
        try:
            await self._form("POST", f"messages/{number}/reactions", {"emoji_name": emoji})
        except PlatformError as exc:
            # Zulip refuses a reaction the user already made ("Reaction already exists.").
            raw = await self._fetch(number)
            me = int((await self._myself())["user_id"])
            mine = {r["emoji_name"] for r in raw.get("reactions") or [] if r["user_id"] == me}
            if exc.status != 400 or emoji not in mine:
                raise
            [shown] = await self._messages([raw])
            return shown
        [shown] = await self._messages([await self._fetch(number)])
        return shown

    async def search(
        self, query: str, channel_id: str | None, limit: int, cursor: str | None
    ) -> MessagePage:
        """``GET /messages`` with the ``search`` narrow (in one channel when given)."""
        narrow = [{"operator": "search", "operand": query}]
        if channel_id is not None:
            narrow = _conversation(channel_id).narrow() + narrow
        return await self._newest_first(narrow, limit, cursor)

    async def users(self, limit: int, cursor: str | None) -> UserPage:
        """``GET /users`` (every active user at once; pages cut here)."""
        offset = read_offset(cursor)
        answer = await self.api.get("users")
        people = [_user(raw) for raw in answer["members"] if raw.get("is_active", True)]
        page = people[offset : offset + limit]
        more = offset + limit < len(people)
        return UserPage(users=page, next_cursor=offset_cursor(offset + limit, more))

    async def mentions(self, limit: int, cursor: str | None) -> MessagePage:
        """``GET /messages`` with the ``is:mentioned`` narrow."""
        narrow = [{"operator": "is", "operand": "mentioned"}]
        return await self._newest_first(narrow, limit, cursor)

    async def catch_up(self, per_channel: int, max_channels: int) -> CatchUp:
        """The newest unread messages (``GET /messages`` with ``is:unread``), by channel."""
        answer = await self._get_messages(
            [{"operator": "is", "operand": "unread"}], "newest", BATCH, 0
        )
        me = int((await self._myself())["user_id"])
        groups: dict[str, list[dict[str, Any]]] = {}
        for raw in reversed(answer["messages"]):  # newest first
            groups.setdefault(self._key(raw, me)[0], []).append(raw)
        checked = list(groups.items())[:max_channels]
        news = []
        for channel_id, raws in checked:
            shown = raws[:per_channel]
            stream_name = shown[0]["display_recipient"] if _is_stream(shown[0]) else None
            news.append(
                ChannelNews(
                    channel_id=channel_id,
                    channel_name=stream_name or self._key(shown[0], me)[1],
                    unread_count=len(raws),
                    mentions_of_me=sum(1 for raw in shown if _MENTION_FLAGS & set(raw["flags"])),
                    latest=[self._message(raw, me) for raw in shown],
                )
            )
        news.sort(key=lambda item: (-item.mentions_of_me, -item.unread_count))
        capped = "" if answer.get("found_oldest") else f" (counted among the newest {BATCH:,})"
        return CatchUp(
            channels_checked=len(checked),
            total_unread=sum(item.unread_count for item in news),
            channels=news,
            note=f"From Zulip's unread flags{capped}; nothing is marked as read.",
        )

    async def mark_read(self, channel_id: str) -> MarkedRead:
        """``POST /messages/flags/narrow`` (flag ``read``) from the first unread message on."""
        narrow = json.dumps(_conversation(channel_id).narrow())
        anchor: int | str = "first_unread"
        for _ in range(MAX_MARK_ROUNDS):
            form = {
                "anchor": str(anchor),
                "include_anchor": "true" if anchor == "first_unread" else "false",
                "num_before": "0",
                "num_after": str(BATCH),
                "narrow": narrow,
                "op": "add",
                "flag": "read",
            }
            answer = await self._form("POST", "messages/flags/narrow", form)
            if answer.get("found_newest") or answer.get("last_processed_id") is None:
                return MarkedRead(channel_id=channel_id, marked_read=True)
            anchor = int(answer["last_processed_id"])
        return MarkedRead(channel_id=channel_id, marked_read=False)


def _topic(topic: str | None) -> str:
    """The topic of a channel message, checked before anything is sent."""
    if topic is None or not topic.strip():
        raise UserError(
            "Zulip files every channel message under a topic: pass `topic` (an existing topic "
            "continues it, a new one starts it)"
        )
    if len(topic) > MAX_TOPIC:
        raise UserError(
            f"Zulip topics are at most {MAX_TOPIC} characters; this one has {len(topic)}"
        )
    return topic


async def _nothing() -> list[ChatChannel]:
    return []
