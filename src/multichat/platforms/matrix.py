"""Matrix: any homeserver through the client-server API, the rooms the user joined as channels.

Requests are those of https://spec.matrix.org/latest/client-server-api/ under ``api_base_url``
(the homeserver's base URL); each method's docstring names what it calls. Beside it: reading
events and writing content (:mod:`.matrix_events`), names of users and rooms
(:mod:`.matrix_directory`), the one /sync of the channel list and catch-up
(:mod:`.matrix_sync`), and signing in without a stored token: password, refresh,
``.well-known`` discovery (:mod:`.matrix_signin`).

Encrypted rooms: this provider holds no encryption keys, so their messages read as
"encrypted, not readable by this provider", and nothing is sent into them (clear text there
would downgrade the room's security); deleting (a redaction carries no text) still works.
"""

from __future__ import annotations

import asyncio
import datetime
import itertools
import json
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from multichat.chat.adapter import ChatAdapter
from multichat.chat.emoji_names import emoji_character, emoji_name
from multichat.chat.markup.html import to_html
from multichat.chat.markup.limits import MATRIX, check_length
from multichat.chat.models import (
    CatchUp,
    ChannelKind,
    ChannelNews,
    ChannelPage,
    ChatMessage,
    ChatThread,
    ChatUser,
    Deleted,
    MarkedRead,
    MessagePage,
    UserPage,
    message,
)
from multichat.errors import ConfigError, UserError
from multichat.platforms import matrix_signin
from multichat.platforms.matrix_directory import Directory, Room
from multichat.platforms.matrix_events import (
    MESSAGE_TYPES,
    V1,
    V3,
    bundled,
    current_content,
    is_message,
    mentions_user,
    message_content,
    message_text,
    relation,
    room_id,
    segment,
    sent_at,
    server_name,
    split_message_id,
    thread_root,
    to_message_id,
)
from multichat.platforms.matrix_sync import (
    SyncedRoom,
    direct_rooms,
    members_name,
    renamed,
    room_heroes,
    sync_filter,
    synced_room,
    unread_messages,
)
from multichat.runtime.config import load_config
from multichat.runtime.platform_client import PlatformError

#: /messages requests one history call makes at most (thread replies are skipped client-side).
MAX_PAGES_PER_CALL = 10
#: Reactions read per message (one page of /relations).
MAX_REACTIONS = 100
_MESSAGES_FILTER = json.dumps(
    {"types": list(MESSAGE_TYPES), "lazy_load_members": True}, separators=(",", ":")
)


_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


def _millis(when: datetime.datetime, *, round_up: bool = False) -> int:
    """Milliseconds since 1970, exactly (floats lose the last millisecond)."""
    micros = (when - _EPOCH) // datetime.timedelta(microseconds=1)
    return -(-micros // 1000) if round_up else micros // 1000


class Adapter(ChatAdapter):
    """The Matrix client-server API (``/_matrix/client/v3`` and ``v1``)."""

    platform = "matrix"
    display_name = "Matrix"
    message_limit = MATRIX
    extra_tools = frozenset({"mark_read"})
    #: History reads each message's reactions at once; catch-up needs a single /sync.
    max_concurrency = 16

    def __init__(self, provider: str) -> None:
        """Bind to ``provider``; names of users and rooms are cached as they are learnt."""
        super().__init__(provider)
        self._directory = Directory(lambda: self.api)
        self._sync_calls = itertools.count()

    # ---- sign-in (no stored token needed) ------------------------------------------------------

    async def exchange_password(self, username: str, password: str) -> dict[str, Any]:
        """``m.login.password`` with refresh tokens: the token response to store."""
        base, timeout = self._homeserver()
        return await matrix_signin.password_login(
            self.provider, base, username, password, timeout=timeout
        )

    async def refresh_credentials(self, credentials: Mapping[str, Any]) -> dict[str, Any]:
        """``POST /_matrix/client/v3/refresh``: new tokens; the old refresh token is spent."""
        base, timeout = self._homeserver()
        return await matrix_signin.refresh_tokens(self.provider, base, credentials, timeout=timeout)

    def _homeserver(self) -> tuple[str, float]:
        settings = load_config().provider(self.provider)
        if not settings.api_base_url:
            raise ConfigError(
                f"set `api_base_url` for {self.provider} in provider-config.yaml to the "
                "homeserver's base URL"
            )
        return settings.api_base_url, settings.http_timeout

    # ---- the content written -------------------------------------------------------------------

    def to_platform(self, markdown: str) -> str:
        """Markdown as Matrix HTML (``formatted_body``); ``body`` keeps the Markdown."""
        return to_html(markdown)

    def outgoing(self, markdown: str) -> str:
        """The HTML for ``markdown``, refused when the message content is over the limit."""
        content = self._content(markdown)
        return str(content.get("formatted_body", content["body"]))

    def _check_size(self, content: Mapping[str, Any]) -> None:
        """Refuse content whose JSON is over the event size limit, before any request."""
        encoded = json.dumps(content, ensure_ascii=False, separators=(",", ":"))
        check_length(encoded, self.message_limit, self.display_name)

    def _content(self, markdown: str) -> dict[str, Any]:
        """The ``m.text`` content of ``markdown``, refused over the limit before any request."""
        content = message_content(markdown)
        self._check_size(content)
        return content

    # ---- events as messages --------------------------------------------------------------------

    async def _event(self, room: str, event_id: str) -> dict[str, Any]:
        """``GET /rooms/{roomId}/event/{eventId}``."""
        event: dict[str, Any] = await self.api.get(
            f"{V3}/rooms/{segment(room)}/event/{segment(event_id)}"
        )
        return event

    async def _reactions(self, room: str, event_ids: Sequence[str]) -> dict[str, list[Any]]:
        """Each event's ``m.annotation`` relations (``GET /relations/{eventId}/m.annotation``)."""

        async def annotations(event_id: str) -> list[Any]:
            path = f"{V1}/rooms/{segment(room)}/relations/{segment(event_id)}/m.annotation"
            answer = await self.api.get(path, limit=MAX_REACTIONS)
            return list(answer.get("chunk", []))

        found = await asyncio.gather(*(annotations(event_id) for event_id in event_ids))
        return dict(zip(event_ids, found, strict=True))

    async def _messages(
        self,
        events: Sequence[Mapping[str, Any]],
        *,
        room: str | None = None,
        reactions: Mapping[str, list[Any]] | None = None,
    ) -> list[ChatMessage]:
        """Events as messages, with room and sender names resolved (and cached)."""
        rooms = sorted({room or str(event.get("room_id", "")) for event in events})
        infos, _ = await asyncio.gather(
            asyncio.gather(*(self._directory.room(each) for each in rooms)),
            self._directory.resolve(str(event.get("sender", "")) for event in events),
        )
        names = dict(zip(rooms, (info.name for info in infos), strict=True))
        result = []
        for event in events:
            where = room or str(event.get("room_id", ""))
            found = (reactions or {}).get(str(event.get("event_id")), [])
            result.append(self._message(event, where, names[where], found))
        return result

    def _message(
        self, event: Mapping[str, Any], room: str, room_name: str, annotations: list[Any]
    ) -> ChatMessage:
        sender = str(event.get("sender", ""))
        root = thread_root(event)
        _, edited = current_content(event)
        return message(
            id=to_message_id(room, str(event["event_id"])),
            channel_id=room,
            channel_name=room_name,
            author_id=sender,
            author=self._directory.name(sender),
            sent_at=sent_at(event),
            edited=edited,
            thread_id=to_message_id(room, root) if root else None,
            reply_count=int(bundled(event, "m.thread").get("count", 0)),
            reactions=_count_reactions(annotations),
            text=message_text(event),
        )

    async def _one(self, room: str, event_id: str, *, reactions: bool = False) -> ChatMessage:
        event = await self._event(room, event_id)
        found = await self._reactions(room, [event_id]) if reactions else {}
        [shown] = await self._messages([event], room=room, reactions=found)
        return shown

    async def _own_message(self, ref: str, verb: str) -> tuple[str, str, dict[str, Any]]:
        """The room, event id and event of one of the user's own messages."""
        room, event_id = split_message_id(ref)
        event, me = await asyncio.gather(self._event(room, event_id), self._directory.me())
        if event.get("sender") != me:
            raise UserError(f"you can only {verb} your own messages; {ref} is not yours")
        if not is_message(event):
            raise UserError(f"{ref} is not a message that can be changed")
        return room, event_id, event

    async def _send(self, room: str, content: Mapping[str, Any], kind: str) -> str:
        """``PUT /rooms/{roomId}/send/{type}/{txnId}``.

        One transaction id per logical send, reused by every retry of the request, so the
        homeserver answers a retry with the first event instead of posting twice.
        """
        path = f"{V3}/rooms/{segment(room)}/send/{kind}/{uuid.uuid4().hex}"
        return str((await self.api.put(path, dict(content)))["event_id"])

    # ---- the twelve jobs -----------------------------------------------------------------------

    async def whoami(self) -> ChatUser:
        """``GET /account/whoami``, then the profile's display name."""
        me = await self._directory.me(fresh=True)
        await self._directory.resolve([me])
        return self._directory.user(me)

    async def list_channels(
        self, kinds: list[ChannelKind] | None, limit: int, cursor: str | None
    ) -> ChannelPage:
        """One filtered ``GET /sync`` (names, topics, join rules, ``m.direct``), paged here."""
        rooms = await self._synced_rooms(timeline_limit=1)
        channels = sorted(
            (room.channel for room in rooms if not kinds or room.channel.kind in kinds),
            key=lambda channel: (channel.name.casefold(), channel.id),
        )
        start = _offset(cursor)
        page = channels[start : start + limit]
        more = start + limit < len(channels)
        return ChannelPage(channels=page, next_cursor=str(start + limit) if more else None)

    async def channel_history(
        self,
        channel_id: str,
        limit: int,
        cursor: str | None,
        oldest: datetime.datetime | None,
        latest: datetime.datetime | None,
    ) -> MessagePage:
        """``GET /rooms/{roomId}/messages`` backwards, thread replies skipped.

        ``latest`` starts the walk at the event ``GET /timestamp_to_event`` finds; ``oldest``
        ends it.
        """
        room = room_id(channel_id)
        # Both ends are exclusive: skip events at or after ``latest``, stop at ``oldest``.
        newest = _millis(latest, round_up=True) if latest else None
        oldest_ms = _millis(oldest) if oldest else None
        token = cursor
        if token is None and newest is not None:
            token = await self._token_before(room, newest)
        collected: list[dict[str, Any]] = []
        finished = False
        for _ in range(MAX_PAGES_PER_CALL):
            need = limit - len(collected)
            # Exactly ``need`` events a page: every event fetched is used or skipped, so the
            # next page starts right after the last one (no repeats, no gaps).
            answer = await self.api.get(
                f"{V3}/rooms/{segment(room)}/messages",
                dir="b",
                limit=need,
                filter=_MESSAGES_FILTER,
                **{"from": token},
            )
            self._directory.learn_members(answer.get("state", []))
            chunk = answer.get("chunk", [])
            for event in chunk:
                stamp = int(event.get("origin_server_ts", 0))
                if oldest_ms is not None and stamp <= oldest_ms:
                    finished = True
                    break
                if newest is not None and stamp >= newest:
                    continue
                if is_message(event) and thread_root(event) is None:
                    collected.append(event)
            token = answer.get("end")
            if finished or not token or not chunk:
                token, finished = None, True
            if finished or len(collected) >= limit:
                break
        reactions = await self._reactions(room, [str(event["event_id"]) for event in collected])
        shown = await self._messages(collected, room=room, reactions=reactions)
        return MessagePage(messages=shown, next_cursor=None if finished else token)

    async def _token_before(self, room: str, millis: int) -> str | None:
        """A /messages token just after the last event at or before ``millis``.

        ``GET /timestamp_to_event`` then ``GET /context/{eventId}``; None (walk from the
        newest event) where the homeserver cannot say.
        """
        try:
            found = await self.api.get(
                f"{V1}/rooms/{segment(room)}/timestamp_to_event", ts=millis, dir="b"
            )
        except PlatformError as exc:
            if exc.status in (400, 404):
                return None
            raise
        event_id = str(found["event_id"])
        context = await self.api.get(
            f"{V3}/rooms/{segment(room)}/context/{segment(event_id)}", limit=0
        )
        end = context.get("end")
        return str(end) if end else None

    async def thread(self, message_id: str, limit: int, cursor: str | None) -> ChatThread:
        """The root event and ``GET /relations/{eventId}/m.thread`` (oldest first), together."""
        room, root_id = split_message_id(message_id)
        root, page = await asyncio.gather(
            self._event(room, root_id),
            self.api.get(
                f"{V1}/rooms/{segment(room)}/relations/{segment(root_id)}/m.thread",
                dir="f",
                limit=limit,
                **{"from": cursor},
            ),
        )
        parent = thread_root(root)
        if parent is not None:
            raise UserError(
                f"{message_id} is a reply in thread {to_message_id(room, parent)}; "
                "ask for that thread"
            )
        replies = [event for event in page.get("chunk", []) if is_message(event)]
        ids = [root_id, *(str(event["event_id"]) for event in replies)]
        reactions = await self._reactions(room, ids)
        [shown_root, *shown] = await self._messages(
            [root, *replies], room=room, reactions=reactions
        )
        return ChatThread(root=shown_root, replies=shown, next_cursor=page.get("next_batch"))

    async def send(self, channel_id: str, text: str) -> ChatMessage:
        """``PUT /rooms/{roomId}/send/m.room.message/{txnId}`` (unless the room is encrypted)."""
        room = room_id(channel_id)
        content = self._content(text)
        await self._directory.refuse_encrypted(room)
        return await self._one(room, await self._send(room, content, "m.room.message"))

    async def reply(self, message_id: str, text: str) -> ChatMessage:
        """A message in the target's thread (``m.thread`` to its root).

        It falls back to a rich reply to the target for clients without threads.
        """
        room, target = split_message_id(message_id)
        content = self._content(text)
        event = await self._event(room, target)
        if not is_message(event):
            raise UserError(f"{message_id} is not a message that can be replied to")
        await self._directory.refuse_encrypted(room)
        content["m.relates_to"] = {
            "rel_type": "m.thread",
            "event_id": thread_root(event) or target,
            "is_falling_back": True,
            "m.in_reply_to": {"event_id": target},
        }
        return await self._one(room, await self._send(room, content, "m.room.message"))

    async def edit(self, message_id: str, text: str) -> ChatMessage:
        """An ``m.replace`` event carrying the new content (own messages only)."""
        room, target = split_message_id(message_id)
        new = message_content(text)
        edit: dict[str, Any] = {
            "msgtype": "m.text",
            "body": f"* {new['body']}",
            "m.new_content": new,
            "m.mentions": {},
            "m.relates_to": {"rel_type": "m.replace", "event_id": target},
        }
        if "formatted_body" in new:
            edit.update(format=new["format"], formatted_body=f"* {new['formatted_body']}")
        self._check_size(edit)
        await self._own_message(message_id, "edit")
        await self._directory.refuse_encrypted(room)
        await self._send(room, edit, "m.room.message")
        return await self._one(room, target, reactions=True)

    async def delete(self, message_id: str) -> Deleted:
        """``PUT /rooms/{roomId}/redact/{eventId}/{txnId}`` (own messages only)."""
        room, target, _ = await self._own_message(message_id, "delete")
        path = f"{V3}/rooms/{segment(room)}/redact/{segment(target)}/{uuid.uuid4().hex}"
        await self.api.put(path, {})
        return Deleted(message_id=message_id, deleted=True)

    async def react(self, message_id: str, emoji: str) -> ChatMessage:
        """An ``m.reaction`` (``m.annotation`` with the emoji as key), once per user and emoji."""
        key = emoji_character(emoji)
        room, target = split_message_id(message_id)
        event, found, me = await asyncio.gather(
            self._event(room, target), self._reactions(room, [target]), self._directory.me()
        )
        annotations = found[target]
        mine = any(
            item.get("sender") == me and relation(item).get("key") == key for item in annotations
        )
        if not mine:
            await self._directory.refuse_encrypted(room)
            relates = {"rel_type": "m.annotation", "event_id": target, "key": key}
            reaction = await self._send(room, {"m.relates_to": relates}, "m.reaction")
            annotations = [
                *annotations,
                {"sender": me, "event_id": reaction, "content": {"m.relates_to": relates}},
            ]
        [shown] = await self._messages([event], room=room, reactions={target: annotations})
        return shown

    async def search(
        self, query: str, channel_id: str | None, limit: int, cursor: str | None
    ) -> MessagePage:
        """``POST /search`` over room events, newest first (encrypted rooms cannot be searched).

        Newest first rather than by rank: Synapse pages only results ordered by recency (it
        sends no ``next_batch`` for ``order_by: rank``).
        """
        room_filter: dict[str, Any] = {"limit": limit}
        if channel_id:
            room_filter["rooms"] = [room_id(channel_id)]
        body = {
            "search_categories": {
                "room_events": {
                    "search_term": query,
                    "order_by": "recent",
                    "filter": room_filter,
                }
            }
        }
        answer = await self.api.post(f"{V3}/search", body, next_batch=cursor)
        found = answer.get("search_categories", {}).get("room_events", {})
        events = [item["result"] for item in found.get("results", []) if "result" in item]
        shown = await self._messages([event for event in events if is_message(event)])
        return MessagePage(messages=shown, next_cursor=found.get("next_batch"))

    async def users(self, limit: int, cursor: str | None) -> UserPage:
        """``POST /user_directory/search`` for the user's own server name.

        The directory answers a search term, not a listing: every user id on the homeserver
        holds its name, so this lists the people of that server the directory shows the user
        (those sharing a room, or everyone where the server says so). Paged here.
        """
        me = await self._directory.me()
        start = _offset(cursor)
        body = {"search_term": server_name(me), "limit": start + limit}
        answer = await self.api.post(f"{V3}/user_directory/search", body)
        results = list(answer.get("results", []))
        users = []
        for found in results[start : start + limit]:
            user = str(found["user_id"])
            name = found.get("display_name")
            if isinstance(name, str) and name:
                self._directory.learn_name(user, name)
            users.append(self._directory.user(user))
        more = bool(answer.get("limited")) or len(results) > start + limit
        return UserPage(users=users, next_cursor=str(start + limit) if more else None)

    async def mentions(self, limit: int, cursor: str | None) -> MessagePage:
        """``GET /notifications?only=highlight``: what the push rules highlighted, newest first."""
        answer = await self.api.get(
            f"{V3}/notifications", only="highlight", limit=limit, **{"from": cursor}
        )
        notifications = answer.get("notifications", [])
        events = []
        for notification in notifications:
            event = dict(notification.get("event", {}))
            event.setdefault("room_id", notification.get("room_id"))
            if is_message(event):
                events.append(event)
        shown = await self._messages(events)
        # Synapse sends a next_token even after the last page; a short page is the last one.
        more = len(notifications) >= limit
        return MessagePage(messages=shown, next_cursor=answer.get("next_token") if more else None)

    async def catch_up(self, per_channel: int, max_channels: int) -> CatchUp:
        """One filtered ``GET /sync``: unread counts, read markers and latest messages.

        The messages shown are those after each room's ``m.fully_read`` marker.
        """
        me = await self._directory.me()
        rooms, _ = await asyncio.gather(
            self._synced_rooms(timeline_limit=min(2 * per_channel, 100)),
            self._directory.resolve([me]),
        )
        my_name = self._directory.name(me)
        latest_first = sorted(rooms, key=lambda room: room.channel.last_message_at or "")
        checked = list(reversed(latest_first))[:max_channels]
        busy = [room for room in checked if room.unread > 0]
        shown = [unread_messages(room, me, per_channel) for room in busy]
        messages = await asyncio.gather(
            *(
                self._messages(events, room=room.channel.id)
                for room, events in zip(busy, shown, strict=True)
            )
        )
        news = [
            ChannelNews(
                channel_id=room.channel.id,
                channel_name=room.channel.name,
                unread_count=room.unread,
                mentions_of_me=sum(1 for event in events if mentions_user(event, me, my_name)),
                latest=latest,
            )
            for room, events, latest in zip(busy, shown, messages, strict=True)
        ]
        news.sort(key=lambda item: (-item.mentions_of_me, -item.unread_count))
        return CatchUp(
            channels_checked=len(checked),
            total_unread=sum(item.unread_count for item in news),
            channels=news,
            note=(
                "Unread counts are the homeserver's notification counts; messages shown are "
                "those after your read marker (m.fully_read). Nothing is marked as read."
            ),
        )

    async def mark_read(self, channel_id: str) -> MarkedRead:
        """The newest event (``GET /messages``), then ``POST /rooms/{roomId}/read_markers``."""
        room = room_id(channel_id)
        answer = await self.api.get(f"{V3}/rooms/{segment(room)}/messages", dir="b", limit=1)
        chunk = answer.get("chunk", [])
        if chunk:
            newest = chunk[0]["event_id"]
            body = {"m.fully_read": newest, "m.read": newest}
            await self.api.post(f"{V3}/rooms/{segment(room)}/read_markers", body)
        return MarkedRead(channel_id=room, marked_read=True)

    # ---- /sync ---------------------------------------------------------------------------------

    async def _synced_rooms(self, timeline_limit: int) -> list[SyncedRoom]:
        """Every joined room (spaces aside) from one initial ``GET /sync`` with a tight filter.

        Synapse answers an identical /sync from a cache for two minutes
        (``sync_response_cache_duration``), so a catch-up right after ``mark_read`` would be
        stale; the cache key holds ``timeout``, which an initial sync never waits on, so each
        call sends a different one.
        """
        answer = await self.api.get(
            f"{V3}/sync",
            filter=sync_filter(timeline_limit),
            timeout=next(self._sync_calls) % 1000 + 1,
            set_presence="offline",
        )
        direct = direct_rooms(answer.get("account_data", {}).get("events", []))
        joined = answer.get("rooms", {}).get("join", {})
        for data in joined.values():
            self._directory.learn_members(data.get("state", {}).get("events", []))
        rooms = [synced_room(room, data, direct) for room, data in joined.items()]
        found = [room for room in rooms if room is not None]
        unnamed = [room.channel.id for room in found if not room.channel.name]
        if unnamed:
            names = await self._hero_names(unnamed, joined, direct)
            found = [renamed(room, names.get(room.channel.id)) for room in found]
        for room in found:
            self._directory.remember_room(room.channel.id, Room(room.channel.name, room.encrypted))
        return found

    async def _hero_names(
        self, rooms: Sequence[str], joined: Mapping[str, Any], direct: Mapping[str, str]
    ) -> dict[str, str]:
        """Names of unnamed rooms, from the people they are named after (their heroes)."""
        heroes = {room: room_heroes(room, joined[room], direct) for room in rooms}
        await self._directory.resolve(user for users in heroes.values() for user in users)
        return {
            room: members_name([self._directory.name(user) for user in users])
            for room, users in heroes.items()
        }


def _count_reactions(annotations: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """Reaction counts by emoji name, one per user and key (as the spec counts them)."""
    seen = {
        (item.get("sender"), relation(item).get("key"))
        for item in annotations
        if isinstance(relation(item).get("key"), str)
    }
    return dict(Counter(emoji_name(str(key)) for _, key in sorted(seen, key=str)))


def _offset(cursor: str | None) -> int:
    if cursor is None:
        return 0
    if not cursor.isdigit():
        raise UserError(f"{cursor[:40]!r} is not a cursor this tool gave; omit it to start over")
    return int(cursor)
