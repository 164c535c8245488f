"""Discord through its bot API (v10): the chat tools as a bot invited to servers ("guilds").

A bot is not the person who runs it (PLATFORMS.md, Discord): it sees the guilds it was invited
to and DMs opened with it, its mentions are its own, and Discord keeps no read marker for it.
So ``get_my_mentions`` is the bot's mentions and says so, and ``catch_up`` remembers per
channel the newest message it reported (``_discord_state``). Message ids carry their channel
(``CHANNEL:MESSAGE``, ``_discord_ids``). Endpoints, fields and limits are from
https://discord.com/developers/docs (resources/message, channel, guild, user; topics/threads)
and shared/specs/discord/openapi.json.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import re
from typing import Any, ClassVar
from urllib.parse import quote

from multichat.chat.adapter import ChatAdapter, iso
from multichat.chat.emoji_names import emoji_character
from multichat.chat.markup import from_discord, to_discord
from multichat.chat.markup._reading import split_code
from multichat.chat.markup.limits import DISCORD
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
    MessagePage,
    UserPage,
    message,
)
from multichat.errors import UserError
from multichat.platforms import _discord_ids as ids
from multichat.platforms import _discord_state as state
from multichat.platforms._discord_objects import (
    PRIVATE_THREAD,
    TEXT_TYPES,
    THREAD_ONLY_TYPES,
    THREAD_STARTER_MESSAGE,
    Bounded,
    Channel,
    display_name,
    reaction_counts,
    read_channel,
    with_attachments,
)
from multichat.runtime.platform_client import PlatformError
from multichat.runtime.untrusted import NOTICE as UNTRUSTED_NOTICE

#: Per request: list_messages takes 1-100, guild_search 1-25, list_my_guilds 1-200,
#: list_guild_members 1-1000 (resources/message, resources/user, resources/guild).
PAGE, SEARCH_PAGE, GUILD_PAGE, MEMBER_PAGE = 100, 25, 200, 1000
#: guild_search's ``offset`` goes up to 9975 (resources/message#search-guild-messages).
MAX_SEARCH_OFFSET = 9_975
#: Who a bot's mentions belong to, said in every get_my_mentions result.
MENTIONS_NOTE = (
    "These are the messages that mention this Discord bot, not the person using it: Discord "
    "lets no app read a person's mentions."
)
#: An @name the model writes becomes a mention when the name is known; Discord usernames are
#: 2-32 of a-z, 0-9, "_" and "." (https://support.discord.com/hc/en-us/articles/12620128861463).
_AT_NAME = re.compile(r"(?<![\w@<&])@([A-Za-z0-9_](?:[A-Za-z0-9_.]{0,30}[A-Za-z0-9_])?)")
_CHANNEL_MENTION = re.compile(r"<#([0-9]{1,20})>")
_ROLE_MENTION = re.compile(r"<@&[0-9]{1,20}>")


class Adapter(ChatAdapter):
    """Discord's REST API v10 with a bot token (``Authorization: Bot <token>``)."""

    platform = "discord"
    display_name = "Discord"
    message_limit = DISCORD
    #: Guild search answers 202 while Discord builds the guild's index: wait what it says, at
    #: least this long (it may say 0: "retry after a short delay"), this many times, at most
    #: this long in all, then give up with a clear error (resources/message#search-guild-messages).
    search_index_attempts: ClassVar[int] = 4
    search_index_min_wait: ClassVar[float] = 1.0
    search_index_max_wait: ClassVar[float] = 20.0

    def __init__(self, provider: str) -> None:
        """Bind to ``provider``, with empty name caches."""
        super().__init__(provider)
        self._names: Bounded[str] = Bounded()  # user id -> display name
        self._user_ids: Bounded[str] = Bounded()  # lower-case user or display name -> user id
        self._channels: Bounded[Channel] = Bounded()
        self._roles: Bounded[str] = Bounded()  # role id -> name
        self._roles_of: Bounded[bool] = Bounded(256)  # guild id -> True once its roles are known
        self._me: ChatUser | None = None

    # ---- text -----------------------------------------------------------------------------

    def to_platform(self, markdown: str) -> str:
        """Discord Markdown; ``@name`` of a user seen before becomes a real ``<@id>`` mention."""

        def mention(match: re.Match[str]) -> str:
            user = self._user_ids.get(match[1].lower())
            return f"<@{user}>" if user else match.group()

        return "".join(
            piece if is_code else _AT_NAME.sub(mention, piece)
            for piece, is_code in split_code(to_discord(markdown))
        )

    def _remember_user(self, user: dict[str, Any], name: str | None = None) -> str:
        """Learn a user's name (a guild nickname, from ``name``, is kept over their own)."""
        shown: str = name or self._names.get(user["id"]) or display_name(user)
        self._names[user["id"]] = shown
        self._user_ids[str(user["username"]).lower()] = user["id"]
        return shown

    def _remember_channel(self, raw: dict[str, Any]) -> Channel:
        channel = read_channel(raw)
        self._channels[channel.id] = channel
        return channel

    async def _channel(self, channel_id: str) -> Channel | None:
        """A channel by id (cached); None when the bot may not see it."""
        known: Channel | None = self._channels.get(channel_id)
        if known is not None:
            return known
        try:
            return self._remember_channel(await self.api.get(f"channels/{channel_id}"))
        except PlatformError as error:
            if error.status in (403, 404):
                return None
            raise

    async def _require_channel(self, channel_id: str) -> Channel:
        found = await self._channel(ids.snowflake(channel_id, "channel id"))
        if found is None:
            raise UserError(f"the bot cannot see Discord channel {channel_id}")
        return found

    async def _load_roles(self, guild_id: str) -> None:
        if guild_id in self._roles_of:
            return
        try:
            roles = await self.api.get(f"guilds/{guild_id}/roles")
        except PlatformError as error:
            if error.status not in (403, 404):
                raise
            roles = []
        for role in roles:
            self._roles[role["id"]] = role["name"]
        self._roles_of[guild_id] = True

    async def _prepare(self, raws: list[dict[str, Any]]) -> None:
        """Learn the names ``raws`` mention: authors, channels, thread parents, roles."""
        wanted: set[str] = set()
        for raw in raws:
            self._remember_user(raw["author"])
            for user in raw.get("mentions") or []:
                self._remember_user(user)
            if raw.get("thread"):
                self._remember_channel(raw["thread"])
            wanted.add(raw["channel_id"])
            wanted.update(_CHANNEL_MENTION.findall(raw.get("content") or ""))
        channels = await asyncio.gather(*(self._channel(c) for c in sorted(wanted)))
        parents = {c.parent_id for c in channels if c is not None and c.is_thread and c.parent_id}
        await asyncio.gather(*(self._channel(parent) for parent in sorted(parents)))
        guilds = {
            raw.get("guild_id") or getattr(self._channels.get(raw["channel_id"]), "guild_id", None)
            for raw in raws
            if _ROLE_MENTION.search(raw.get("content") or "")
        }
        await asyncio.gather(*(self._load_roles(guild) for guild in sorted(filter(None, guilds))))

    def _thread_root(self, channel: Channel | None) -> str | None:
        """The id of the message a thread hangs from, for messages inside that thread.

        A thread started from a message shares that message's id (topics/threads); a forum
        post's first message is inside the thread with the thread's id. A private thread has
        no such message: ``THREAD:THREAD`` then stands for the thread, and get_thread takes it.
        """
        if channel is None or not channel.is_thread:
            return None
        parent = self._channels.get(channel.parent_id) if channel.parent_id else None
        if channel.type == PRIVATE_THREAD or parent is None or parent.type in THREAD_ONLY_TYPES:
            return ids.message_id(channel.id, channel.id)
        return ids.message_id(parent.id, channel.id)

    def _message(self, raw: dict[str, Any]) -> ChatMessage:
        """A Discord message object as the tools show it (call :meth:`_prepare` first)."""
        channel: Channel | None = self._channels.get(raw["channel_id"])
        text = from_discord(
            raw.get("content") or "",
            resolve_user=self._names.get,
            resolve_channel=lambda c: getattr(self._channels.get(c), "name", None),
            resolve_role=self._roles.get,
        )
        return message(
            id=ids.message_id(raw["channel_id"], raw["id"]),
            channel_id=raw["channel_id"],
            channel_name=channel.name if channel else raw["channel_id"],
            author_id=raw["author"]["id"],
            author=self._names.get(raw["author"]["id"]) or display_name(raw["author"]),
            sent_at=iso(datetime.datetime.fromisoformat(raw["timestamp"])),
            edited=raw.get("edited_timestamp") is not None,
            thread_id=self._thread_root(channel),
            reply_count=int((raw.get("thread") or {}).get("message_count", 0)),
            reactions=reaction_counts(raw.get("reactions") or []),
            text=with_attachments(text, raw),
        )

    async def _messages(self, raws: list[dict[str, Any]]) -> list[ChatMessage]:
        shown = [raw for raw in raws if raw.get("type") != THREAD_STARTER_MESSAGE]
        await self._prepare(shown)
        return [self._message(raw) for raw in shown]

    # ---- who, where -----------------------------------------------------------------------

    async def whoami(self) -> ChatUser:
        """``GET /users/@me``: the bot."""
        me = await self.api.get("users/@me")
        self._me = ChatUser(
            id=me["id"],
            username=me["username"],
            name=self._remember_user(me),
            is_bot=bool(me.get("bot", False)),
        )
        return self._me

    async def _bot(self) -> ChatUser:
        return self._me or await self.whoami()

    async def _guilds(self) -> list[dict[str, Any]]:
        """``GET /users/@me/guilds``, every page: the guilds the bot is in, by id."""
        guilds: list[dict[str, Any]] = []
        after = "0"
        while True:
            page = await self.api.get("users/@me/guilds", limit=GUILD_PAGE, after=after)
            guilds += page or []
            if len(page or []) < GUILD_PAGE:
                return sorted(guilds, key=lambda guild: int(guild["id"]))
            after = page[-1]["id"]

    async def _listed_channels(self) -> list[tuple[Channel, str, bool]]:
        """Every text channel and active thread of the bot's guilds, with guild and membership.

        ``GET /guilds/{id}/channels`` and ``/threads/active`` for each guild; categories,
        voice and forum channels are left out (forum posts are threads, listed as such).
        """
        guilds = await self._guilds()

        async def of(guild: dict[str, Any]) -> list[tuple[Channel, str, bool]]:
            raw_channels, active = await asyncio.gather(
                self.api.get(f"guilds/{guild['id']}/channels"),
                self.api.get(f"guilds/{guild['id']}/threads/active"),
            )
            listed = []
            for raw in sorted(raw_channels or [], key=lambda c: (c.get("position", 0), c["id"])):
                channel = self._remember_channel({**raw, "guild_id": guild["id"]})
                if channel.type in TEXT_TYPES:
                    listed.append((channel, guild["name"], True))
            joined = {member["id"] for member in active.get("members") or []}
            for raw in sorted(active.get("threads") or [], key=lambda t: int(t["id"])):
                thread = self._remember_channel(raw)
                listed.append((thread, guild["name"], thread.id in joined))
            return listed

        found = await asyncio.gather(*(of(guild) for guild in guilds))
        return [item for listed in found for item in listed]

    async def list_channels(
        self, kinds: list[ChannelKind] | None, limit: int, cursor: str | None
    ) -> ChannelPage:
        """Text channels and active threads of every guild; DMs cannot be listed by a bot.

        Discord has no call that lists a bot's DM channels (``GET /users/@me/channels`` is
        gone from the API description), so ``direct`` and ``group`` find nothing here; a DM
        channel's id still works with the other tools.
        """
        start = int(ids.snowflake(cursor, "cursor")) if cursor else 0
        if kinds and not set(kinds) - {"direct", "group"}:
            return ChannelPage(channels=[])
        listed = await self._listed_channels()
        several = len({guild for _, guild, _ in listed}) > 1
        channels = []
        for channel, guild, member in listed:
            if kinds and channel.kind not in kinds:
                continue
            parent = self._channels.get(channel.parent_id or "") if channel.is_thread else None
            about = f"thread in #{parent.name}" if parent else channel.topic
            channels.append(
                ChatChannel(
                    id=channel.id,
                    name=channel.name,
                    kind=channel.kind,
                    topic=" · ".join(filter(None, [guild if several else "", about])),
                    is_member=member,
                    last_message_at=(
                        iso(ids.time_of(channel.last_message_id))
                        if channel.last_message_id
                        else None
                    ),
                )
            )
        end = start + limit
        return ChannelPage(
            channels=channels[start:end], next_cursor=str(end) if end < len(channels) else None
        )

    # ---- reading --------------------------------------------------------------------------

    async def channel_history(
        self,
        channel_id: str,
        limit: int,
        cursor: str | None,
        oldest: datetime.datetime | None,
        latest: datetime.datetime | None,
    ) -> MessagePage:
        """``GET /channels/{id}/messages?before=``, newest first; times become snowflakes."""
        channel_id = ids.snowflake(channel_id, "channel id")
        before = ids.snowflake(cursor, "cursor") if cursor else None
        if before is None and latest is not None:
            before = ids.snowflake_at(latest)
        floor = ids.snowflake_at(oldest) if oldest is not None else None
        raws: list[dict[str, Any]] = []
        ended = False
        while len(raws) < limit and not ended:
            asked = min(PAGE, limit - len(raws))
            page = await self.api.get(f"channels/{channel_id}/messages", limit=asked, before=before)
            kept = [raw for raw in page if ids.newer(raw["id"], floor)]
            raws += kept
            ended = len(page) < asked or len(kept) < len(page)
            if page:
                before = page[-1]["id"]
        next_cursor = raws[-1]["id"] if raws and not ended else None
        return MessagePage(messages=await self._messages(raws), next_cursor=next_cursor)

    async def _oldest_first(
        self, channel_id: str, after: str, limit: int
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Up to ``limit`` messages after ``after``, oldest first, and the next cursor.

        ``after=`` answers the messages just after that id, newest first (resources/message#
        get-channel-messages), so each page is reversed.
        """
        raws: list[dict[str, Any]] = []
        while len(raws) < limit:
            asked = min(PAGE, limit - len(raws))
            page = await self.api.get(f"channels/{channel_id}/messages", limit=asked, after=after)
            raws += reversed(page)
            if len(page) < asked:
                return raws, None
            after = page[0]["id"]
        return raws, raws[-1]["id"] if raws else None

    async def _thread_start(self, thread: Channel) -> dict[str, Any] | None:
        """The message a thread hangs from, if it has one the bot can read."""
        parent = await self._channel(thread.parent_id) if thread.parent_id else None
        if parent is not None and parent.type in THREAD_ONLY_TYPES:
            where = thread.id
        elif thread.type != PRIVATE_THREAD and thread.parent_id:
            where = thread.parent_id
        else:
            return None
        try:
            found: dict[str, Any] = await self.api.get(f"channels/{where}/messages/{thread.id}")
        except PlatformError as error:
            if error.status == 404:  # the starting message was deleted: the thread is orphaned
                return None
            raise
        return found

    async def thread(self, message_id: str, limit: int, cursor: str | None) -> ChatThread:
        """The thread of a message (``message.thread``), or the thread a message is in."""
        channel_id, root_id = ids.split_message_id(message_id)
        after = ids.snowflake(cursor, "cursor") if cursor else None
        channel = await self._require_channel(channel_id)
        if channel.is_thread:
            thread = channel
            root = await self._thread_start(thread)
        else:
            root = await self.api.get(f"channels/{channel_id}/messages/{root_id}")
            if not root.get("thread"):
                return ChatThread(root=(await self._messages([root]))[0], replies=[])
            thread = self._remember_channel(root["thread"])
        if root is None:  # no starting message: the thread's first message stands for it
            first, _ = await self._oldest_first(thread.id, "0", 1)
            if not first:
                raise UserError(f"thread {thread.name!r} has no messages the bot can read")
            root = first[0]
        replies, next_cursor = await self._oldest_first(thread.id, after or root["id"], limit)
        shown = await self._messages([root, *replies])
        return ChatThread(root=shown[0], replies=shown[1:], next_cursor=next_cursor)

    # ---- writing --------------------------------------------------------------------------

    async def _post(self, channel_id: str, body: dict[str, Any]) -> ChatMessage:
        # Only users are pinged: never @everyone or roles, whatever the text says.
        mentions: dict[str, Any] = {"parse": ["users"]}
        if "message_reference" in body:
            mentions["replied_user"] = True
        posted = await self.api.post(
            f"channels/{channel_id}/messages", {**body, "allowed_mentions": mentions}
        )
        return (await self._messages([posted]))[0]

    async def send(self, channel_id: str, text: str) -> ChatMessage:
        """``POST /channels/{id}/messages``."""
        content = self.outgoing(text)
        return await self._post(ids.snowflake(channel_id, "channel id"), {"content": content})

    async def reply(self, message_id: str, text: str) -> ChatMessage:
        """In the message's thread if it has or is in one, else a Discord inline reply.

        Starting a thread needs Create Public Threads, which the invite does not ask for; an
        inline reply (``message_reference``) needs only Send Messages.
        """
        content = self.outgoing(text)
        channel_id, target = ids.split_message_id(message_id)
        channel = await self._require_channel(channel_id)
        if channel.is_thread:
            return await self._post(channel.id, {"content": content})
        replied = await self.api.get(f"channels/{channel_id}/messages/{target}")
        if replied.get("thread"):
            return await self._post(replied["thread"]["id"], {"content": content})
        return await self._post(
            channel_id, {"content": content, "message_reference": {"message_id": target}}
        )

    async def edit(self, message_id: str, text: str) -> ChatMessage:
        """``PATCH /channels/{id}/messages/{id}`` (the bot's own messages only)."""
        content = self.outgoing(text)
        channel_id, target = ids.split_message_id(message_id)
        edited = await self.api.patch(
            f"channels/{channel_id}/messages/{target}", {"content": content}
        )
        return (await self._messages([edited]))[0]

    async def delete(self, message_id: str) -> Deleted:
        """``DELETE /channels/{id}/messages/{id}``."""
        channel_id, target = ids.split_message_id(message_id)
        await self.api.delete(f"channels/{channel_id}/messages/{target}")
        return Deleted(message_id=message_id, deleted=True)

    async def _emoji(self, channel_id: str, name: str) -> str:
        """A standard emoji by name (``thumbsup`` -> 👍), else the guild's custom ``name:id``."""
        with contextlib.suppress(UserError):
            return emoji_character(name)
        channel = await self._channel(channel_id)
        if channel is not None and channel.guild_id:
            for custom in await self.api.get(f"guilds/{channel.guild_id}/emojis") or []:
                if str(custom["name"]).lower() == name:
                    return f"{custom['name']}:{custom['id']}"
        raise UserError(f"Discord has no emoji named {name!r} here; use a name like thumbsup")

    async def react(self, message_id: str, emoji: str) -> ChatMessage:
        """``PUT /channels/{id}/messages/{id}/reactions/{emoji}/@me``, then the message."""
        channel_id, target = ids.split_message_id(message_id)
        code = quote(await self._emoji(channel_id, emoji), safe="")
        await self.api.put(f"channels/{channel_id}/messages/{target}/reactions/{code}/@me")
        reacted = await self.api.get(f"channels/{channel_id}/messages/{target}")
        return (await self._messages([reacted]))[0]

    # ---- searching ------------------------------------------------------------------------

    async def _guild_search(self, guild_id: str, params: dict[str, Any]) -> dict[str, Any]:
        """``GET /guilds/{id}/messages/search``, waiting out "index not ready" (202) a while."""
        waited, answer = 0.0, {}
        for attempt in range(1, self.search_index_attempts + 1):
            answer = dict(await self.api.get(f"guilds/{guild_id}/messages/search", **params))
            if "messages" in answer:
                return answer
            wait = max(float(answer.get("retry_after") or 0), self.search_index_min_wait)
            if attempt == self.search_index_attempts or waited + wait > self.search_index_max_wait:
                break
            waited += wait
            await asyncio.sleep(wait)
        indexed = answer.get("documents_indexed")
        progress = f" ({indexed:,} messages indexed so far)" if isinstance(indexed, int) else ""
        raise PlatformError(
            f"{self.provider}: Discord is still indexing guild {guild_id} for search{progress}; "
            "try again in a minute"
        )

    async def _search(
        self, params: dict[str, Any], guilds: list[str], limit: int, cursor: str | None
    ) -> MessagePage:
        """Newest first across ``guilds``; the cursor holds each guild's offset.

        Each guild answers up to 25 at its offset; the newest ``limit`` of all are shown and
        each guild's offset moves on by what it gave.
        """
        pairs = ids.read_guild_cursor(cursor) if cursor else [(guild, 0) for guild in guilds]
        size = min(limit, SEARCH_PAGE)
        query = {**params, "sort_by": "timestamp", "sort_order": "desc", "limit": size}
        answers = await asyncio.gather(
            *(self._guild_search(guild, {**query, "offset": offset}) for guild, offset in pairs)
        )
        found: list[tuple[str, dict[str, Any]]] = []
        for (guild, _), answer in zip(pairs, answers, strict=True):
            for raw in answer.get("threads") or []:
                self._remember_channel(raw)
            found += [(guild, hit[0]) for hit in answer["messages"] if hit]
        found.sort(key=lambda item: int(item[1]["id"]), reverse=True)
        shown = found[:limit]
        left = []
        for (guild, offset), answer in zip(pairs, answers, strict=True):
            taken = sum(1 for owner, _ in shown if owner == guild)
            given = sum(1 for owner, _ in found if owner == guild)
            more = offset + given < int(answer.get("total_results", 0)) and given > 0
            if (taken < given or more) and offset + taken <= MAX_SEARCH_OFFSET:
                left.append((guild, offset + taken))
        return MessagePage(
            messages=await self._messages([raw for _, raw in shown]),
            next_cursor=ids.write_guild_cursor(left),
        )

    async def search(
        self, query: str, channel_id: str | None, limit: int, cursor: str | None
    ) -> MessagePage:
        """Guild search (``content=``) in every guild of the bot, or in one channel's guild.

        Bots cannot search DMs: guild search is the only search Discord offers them.
        """
        params: dict[str, Any] = {"content": query}
        if channel_id is not None:
            channel = await self._require_channel(channel_id)
            if channel.guild_id is None:
                raise UserError("Discord bots can search guild channels only, not DMs")
            params["channel_id"] = [channel.id]
            guilds = [channel.guild_id]
        else:
            guilds = [guild["id"] for guild in await self._guilds()] if not cursor else []
        return await self._search(params, guilds, limit, cursor)

    async def mentions(self, limit: int, cursor: str | None) -> MessagePage:
        """Guild search for messages that mention the bot (``mentions=`` its id)."""
        me = await self._bot()
        guilds = [guild["id"] for guild in await self._guilds()] if not cursor else []
        page = await self._search({"mentions": [me.id]}, guilds, limit, cursor)
        return page.model_copy(update={"notice": f"{UNTRUSTED_NOTICE} {MENTIONS_NOTE}"})

    async def users(self, limit: int, cursor: str | None) -> UserPage:
        """``GET /guilds/{id}/members`` guild after guild (needs the Server Members intent)."""
        first, after = ids.read_member_cursor(cursor) if cursor else ("", "0")
        guilds = [guild["id"] for guild in await self._guilds()]
        if cursor:
            if first not in guilds:
                raise UserError(f"{cursor[:60]!r} is not a cursor this tool returned")
            guilds = guilds[guilds.index(first) :]
        users: dict[str, ChatUser] = {}
        for guild in guilds:
            while len(users) < limit:
                asked = min(MEMBER_PAGE, limit - len(users))
                page = await self.api.get(f"guilds/{guild}/members", limit=asked, after=after)
                for member in page:
                    user = member["user"]
                    name = self._remember_user(user, member.get("nick") or display_name(user))
                    self._user_ids[name.lower()] = user["id"]
                    users.setdefault(
                        user["id"],
                        ChatUser(
                            id=user["id"],
                            username=user["username"],
                            name=name,
                            is_bot=bool(user.get("bot", False)),
                        ),
                    )
                if len(page) < asked:
                    after = "0"
                    break
                after = page[-1]["user"]["id"]
            else:
                return UserPage(users=list(users.values()), next_cursor=f"{guild}:{after}")
        return UserPage(users=list(users.values()))

    # ---- catching up ----------------------------------------------------------------------

    async def catch_up(self, per_channel: int, max_channels: int) -> CatchUp:
        """What came after the last message ``catch_up`` reported in each channel.

        Discord keeps no read marker for bots, so the newest message reported per channel is
        kept in the workspace; channels whose newest message is not newer cost no request.
        """
        me = await self._bot()
        listed = [
            channel
            for channel, _, member in await self._listed_channels()
            if member and channel.last_message_id
        ]
        listed.sort(key=lambda channel: int(channel.last_message_id or 0), reverse=True)
        channels = listed[:max_channels]
        path = state.state_path(self.provider)
        markers = state.read_markers(path)

        async def news(channel: Channel) -> tuple[ChannelNews, str] | None:
            marker = markers.get(channel.id)
            if not ids.newer(channel.last_message_id or "0", marker):
                return None
            try:
                page = await self.api.get(
                    f"channels/{channel.id}/messages", limit=PAGE if marker else per_channel
                )
            except PlatformError as error:
                if error.status in (403, 404):  # no Read Message History there
                    return None
                raise
            unread = [raw for raw in page if ids.newer(raw["id"], marker)]
            if not unread:
                return None
            shown = unread[:per_channel]
            item = ChannelNews(
                channel_id=channel.id,
                channel_name=channel.name,
                unread_count=len(unread),
                mentions_of_me=sum(
                    1
                    for raw in shown
                    if any(user["id"] == me.id for user in raw.get("mentions") or [])
                ),
                latest=await self._messages(shown),
            )
            return item, unread[0]["id"]  # answers are newest first

        found = [item for item in await asyncio.gather(*map(news, channels)) if item]
        state.save_markers(path, {item.channel_id: newest for item, newest in found})
        busy = sorted(
            (item for item, _ in found), key=lambda item: (-item.mentions_of_me, -item.unread_count)
        )
        return CatchUp(
            channels_checked=len(channels),
            total_unread=sum(item.unread_count for item in busy),
            channels=busy,
            note=(
                "Discord keeps no read marker for bots: unread here means newer than the last "
                "message catch_up reported in that channel, remembered in "
                f"{state.where_kept(self.provider)} (the first catch_up shows each "
                f"channel's latest messages). Counts stop at {PAGE}; mentions are of the bot."
            ),
        )
