"""Names for Slack's ids, so results carry people and channels by name: a bounded cache.

Messages name their author and mentions by id (``U012AB3CDE``, ``<@U…>``, ``<#C…>``). Before a
page of messages is converted, :meth:`SlackNames.learn` looks up every id it has not seen yet,
concurrently (``users.info``, ``conversations.info``; the client's semaphore bounds how many at
once), so the conversion itself is a dictionary lookup. Each cache keeps the most recently used
entries, at most :data:`MAX_ENTRIES`, for the life of the process.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from functools import partial
from typing import Any

from multichat.chat.cache import BoundedCache
from multichat.chat.models import ChatUser
from multichat.platforms.slack_web import SlackError, call
from multichat.runtime.platform_client import PlatformClient, PlatformError

MAX_ENTRIES = 5_000

#: ``<@U123>`` / ``<@W123|label>`` and ``<#C123>`` without a label, as Slack writes them
#: (https://docs.slack.dev/messaging/formatting-message-text#advanced).
USER_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
CHANNEL_MENTION = re.compile(r"<#([CGD][A-Z0-9]+)>")
#: Errors that mean "no such thing": remembered, so the id is not asked for again.
_GONE = frozenset({"user_not_found", "channel_not_found", "users_not_found"})


def chat_user(raw: Mapping[str, Any]) -> ChatUser:
    """A Slack user object (users.info, users.list) as the tools show people.

    The name is the one Slack shows: the profile's display name, else the real name, else the
    handle (https://docs.slack.dev/reference/objects/user-object).
    """
    profile = raw.get("profile") or {}
    name = (
        profile.get("display_name")
        or profile.get("real_name")
        or raw.get("real_name")
        or raw.get("name")
        or raw["id"]
    )
    return ChatUser(
        id=raw["id"],
        username=str(raw.get("name") or raw["id"]),
        name=str(name),
        is_bot=bool(raw.get("is_bot")),
    )


class SlackNames:
    """People and channels by id, plus handles (``@grace``) to ids for outgoing mentions."""

    def __init__(self, size: int = MAX_ENTRIES) -> None:
        """Start empty; everything is learnt from answers and lookups."""
        self.users: BoundedCache[str, ChatUser | None] = BoundedCache(size)
        self.channels: BoundedCache[str, str | None] = BoundedCache(size)
        self.handles: BoundedCache[str, str] = BoundedCache(size)
        #: Lookups under way, so two calls that need one id share its request.
        self._pending: dict[str, asyncio.Future[None]] = {}

    # ---- reading the cache (synchronous: the markup readers call these) ---------------------

    def user_name(self, user_id: str) -> str | None:
        """The name of ``user_id`` if known."""
        user = self.users.get(user_id)
        return user.name if user is not None else None

    def channel_name(self, channel_id: str) -> str | None:
        """The name of ``channel_id`` if known (``@Ada`` for a direct message with Ada)."""
        return self.channels.get(channel_id)

    def user_id(self, handle: str) -> str | None:
        """The id behind a handle (``grace``) seen in an answer, if any."""
        return self.handles.get(handle.lower())

    # ---- filling it -------------------------------------------------------------------------

    def remember_user(self, raw: Mapping[str, Any]) -> ChatUser:
        """Keep a user object from any answer; returns it as a :class:`ChatUser`."""
        user = chat_user(raw)
        self.users.put(user.id, user)
        self.handles.put(user.username.lower(), user.id)
        return user

    def remember_channel(self, raw: Mapping[str, Any]) -> str:
        """Keep a conversation object's name; a direct message is named after the other person."""
        name = self.conversation_name(raw)
        self.channels.put(str(raw["id"]), name)
        return name

    def conversation_name(self, raw: Mapping[str, Any]) -> str:
        """``general`` for channels, ``@Ada Lovelace`` for a direct message (its ``user``)."""
        if raw.get("is_im"):
            other = str(raw.get("user") or "")
            return "@" + (self.user_name(other) or other or str(raw["id"]))
        return str(raw.get("name") or raw["id"])

    async def learn(
        self, api: PlatformClient, user_ids: Iterable[str], channel_ids: Iterable[str] = ()
    ) -> None:
        """Look up, all at once, the users and channels not known yet.

        A lookup that fails (a missing scope, a deleted user) leaves the id as it is: names are
        a convenience, never a reason for a tool to fail. A rejected token still raises.
        """
        users = sorted({u for u in user_ids if u and u not in self.users})
        channels = sorted({c for c in channel_ids if c and c not in self.channels})
        lookups = [self._shared(f"U:{u}", partial(self._fetch_user, api, u)) for u in users]
        lookups += [self._shared(f"C:{c}", partial(self._fetch_channel, api, c)) for c in channels]
        if lookups:
            await asyncio.gather(*lookups)

    async def learn_from_messages(
        self, api: PlatformClient, messages: Iterable[Mapping[str, Any]], channels: Iterable[str]
    ) -> None:
        """Learn the authors and mentions of ``messages``, and the names of ``channels``."""
        user_ids: set[str] = set()
        channel_ids = set(channels)
        for raw in messages:
            if raw.get("user"):
                user_ids.add(str(raw["user"]))
            text = str(raw.get("text") or "")
            user_ids.update(USER_MENTION.findall(text))
            channel_ids.update(CHANNEL_MENTION.findall(text))
        await self.learn(api, user_ids, channel_ids)

    async def remember_conversations(
        self, api: PlatformClient, conversations: Iterable[Mapping[str, Any]]
    ) -> list[str]:
        """Keep the names of ``conversations``, looking up the people of direct messages first."""
        listed = list(conversations)
        await self.learn(api, (str(c.get("user") or "") for c in listed if c.get("is_im")))
        return [self.remember_channel(conversation) for conversation in listed]

    def _shared(self, key: str, lookup: Callable[[], Awaitable[None]]) -> asyncio.Future[None]:
        """One lookup per id at a time: a second caller waits for the first one's answer."""
        running = self._pending.get(key)
        if running is None or running.get_loop() is not asyncio.get_running_loop():
            running = self._pending[key] = asyncio.ensure_future(lookup())
            running.add_done_callback(lambda _: self._pending.pop(key, None))
        return running

    async def _fetch_user(self, api: PlatformClient, user_id: str) -> None:
        try:
            answer = await call(api, "users.info", user=user_id)
        except SlackError as exc:
            if exc.code in _GONE:
                self.users.put(user_id, None)
            return
        except PlatformError:
            return
        self.remember_user(answer["user"])

    async def _fetch_channel(self, api: PlatformClient, channel_id: str) -> None:
        try:
            answer = await call(api, "conversations.info", channel=channel_id)
        except SlackError as exc:
            if exc.code in _GONE:
                self.channels.put(channel_id, None)
            return
        except PlatformError:
            return
        await self.remember_conversations(api, [answer["channel"]])
