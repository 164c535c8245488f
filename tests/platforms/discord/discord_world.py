"""A small Discord, for the fake platform: two guilds, their channels, threads, a DM, messages.

Handlers answer Discord's own operations (operation ids of shared/specs/discord/openapi.json)
from this state, as Discord documents them; FakePlatform checks every request and answer
against that description. Behaviour sources, all under https://discord.com/developers/docs:
resources/message (Get Channel Messages: ``before``/``after`` are exclusive, answers newest
first, ``after`` gives the messages just after the id; Search Guild Messages: nested
``messages``, ``total_results``, ``offset``/``limit``, no ``reactions`` key), resources/guild
(List Guild Members ascends by user id after ``after``; List Active Guild Threads gives
``threads`` and the bot's own thread ``members``), topics/threads (a thread started from a
message shares its id; a forum post's first message has the thread's id; a thread started
from a message opens with a THREAD_STARTER_MESSAGE, type 21), topics/opcodes-and-status-codes
(JSON error codes 10003 Unknown Channel, 10008 Unknown Message, 50005 Cannot edit a message
authored by another user, 50013 Missing Permissions), reference (snowflakes: milliseconds
since 1420070400000 in the top bits).
"""

from __future__ import annotations

import datetime
import itertools
import re
from dataclasses import dataclass, field
from typing import Any

from support.fake_platform import FakePlatform, Reply

#: The provider the tests generate, its bot token (a made-up one, shaped as Discord's) and the
#: application id of its invite link (topics/oauth2's example).
PROVIDER = "dc"
TOKEN = "MTk4NjIyNDgzNDcxOTI1MjQ4.Cl2FMQ.ZnCjm1XVW7vRze4b7Cq4se7kKWs"
APPLICATION_ID = "157730590492196864"

DISCORD_EPOCH_MS = 1_420_070_400_000
START = datetime.datetime(2025, 6, 5, 9, 0, tzinfo=datetime.UTC)

GUILD_A, GUILD_B = "290926798626357250", "290926798626357999"
BOT, ADA, GRACE, LINUS = (f"10000000000000000{n}" for n in (10, 11, 12, 13))
GENERAL, ENGINEERING, SECRET, CATEGORY, VOICE, IDEAS, BOTLAB = (
    f"20000000000000000{n}" for n in (10, 11, 12, 13, 14, 15, 16)
)
RANDOM = "2000000000000000110"
DM_ADA = "3000000000000000010"
MODS = "4000000000000000010"
PARTYPARROT = "5000000000000000010"

USERS: dict[str, tuple[str, str | None, bool]] = {
    BOT: ("multichat-bot", "Multichat", True),
    ADA: ("ada", "Ada Lovelace", False),
    GRACE: ("grace", "Grace Hopper", False),
    LINUS: ("linus", None, False),
}


def snowflake(when: datetime.datetime, sequence: int = 0) -> str:
    """reference#snowflakes: ``(unix_ms - 1420070400000) << 22``, plus a sequence number."""
    return str(((int(when.timestamp() * 1000) - DISCORD_EPOCH_MS) << 22) | sequence)


def user(user_id: str) -> dict[str, Any]:
    """A UserResponse (resources/user#user-object)."""
    username, global_name, is_bot = USERS[user_id]
    return {
        "id": user_id,
        "username": username,
        "avatar": None,
        "discriminator": "0",
        "public_flags": 0,
        "flags": 0,
        "global_name": global_name,
        "primary_guild": None,
        **({"bot": True} if is_bot else {}),
    }


def error(status: int, code: int, text: str) -> Reply:
    """Discord's JSON error body (topics/opcodes-and-status-codes#json)."""
    return Reply({"message": text, "code": code}, status)


@dataclass
class Message:
    id: str
    channel_id: str
    author_id: str
    content: str
    type: int = 0
    mentions: list[str] = field(default_factory=list)
    mention_roles: list[str] = field(default_factory=list)
    reactions: dict[tuple[str | None, str], list[Any]] = field(default_factory=dict)
    attachments: list[dict[str, Any]] = field(default_factory=list)
    edited: str | None = None
    reference: dict[str, Any] | None = None

    @property
    def timestamp(self) -> datetime.datetime:
        milliseconds = (int(self.id) >> 22) + DISCORD_EPOCH_MS
        return datetime.datetime.fromtimestamp(milliseconds / 1000, datetime.UTC)


@dataclass
class Channel:
    id: str
    type: int
    name: str | None
    guild_id: str | None = None
    parent_id: str | None = None
    position: int = 0
    topic: str | None = None
    private: bool = False
    bot_joined: bool = False
    messages: list[Message] = field(default_factory=list)


class DiscordWorld:
    """The state behind the fake, and its handlers (:meth:`install`)."""

    def __init__(self) -> None:
        self.clock = itertools.count(1)
        self.channels: dict[str, Channel] = {}
        for channel in (
            Channel(GENERAL, 0, "general", GUILD_A, position=0, topic="Everything"),
            Channel(ENGINEERING, 0, "engineering", GUILD_A, position=1),
            Channel(SECRET, 0, "leads", GUILD_A, position=2, private=True),
            Channel(CATEGORY, 4, "Text Channels", GUILD_A, position=3),
            Channel(VOICE, 2, "Lounge", GUILD_A, position=4),
            Channel(IDEAS, 15, "ideas", GUILD_A, position=5),
            Channel(BOTLAB, 0, "bot-lab", GUILD_A, position=6),
            Channel(RANDOM, 0, "random", GUILD_B, position=0),
            Channel(DM_ADA, 1, None),
        ):
            self.channels[channel.id] = channel
        self._seed()

    # ---- seeding --------------------------------------------------------------------------

    def add(self, channel_id: str, author: str, content: str, minutes: float, **extra: Any) -> str:
        when = START + datetime.timedelta(minutes=minutes)
        message = Message(snowflake(when, next(self.clock)), channel_id, author, content, **extra)
        self.channels[channel_id].messages.append(message)
        return message.id

    def _seed(self) -> None:
        authors = [ADA, GRACE, LINUS]
        for i in range(30):
            extra: dict[str, Any] = {}
            content = f"General message {i}"
            if i == 5:
                content, extra = f"Deploy finished <@{BOT}> thanks", {"mentions": [BOT]}
            elif i == 10:
                content = f"ping <@{GRACE}> in <#{ENGINEERING}> for <@&{MODS}>"
                extra = {"mentions": [GRACE], "mention_roles": [MODS]}
            elif i == 12:
                content = "Postmortem draft"
            elif i == 20:
                content = "**Release** notes are _out_ ~~soon~~"
                extra = {
                    "reactions": {
                        (None, "\N{THUMBS UP SIGN}"): [ADA, GRACE],
                        (PARTYPARROT, "partyparrot"): [LINUS],
                    }
                }
            elif i == 25:
                content = "logs attached"
                extra = {"attachments": [self._attachment("build.log")]}
            elif i == 28:
                content, extra = f"flamegraph looks odd <@{BOT}>", {"mentions": [BOT]}
            message_id = self.add(GENERAL, authors[i % 3], content, i, **extra)
            if i == 12:
                self.started = message_id
        # topics/threads: a thread started from a message has that message's id, and opens
        # with a THREAD_STARTER_MESSAGE pointing at it.
        self.channels[self.started] = Channel(
            self.started, 11, "Postmortem", GUILD_A, parent_id=GENERAL, bot_joined=True
        )
        reference = {"type": 0, "channel_id": GENERAL, "message_id": self.started}
        self.add(self.started, GRACE, "", 12.1, type=21, reference=reference)
        for n, (author, text) in enumerate(
            [(ADA, "First reply"), (GRACE, "Second reply"), (LINUS, "Third reply")]
        ):
            self.add(self.started, author, text, 13 + n)
        # A forum post: its first message has the thread's id.
        when = START + datetime.timedelta(minutes=40)
        self.forum_post = snowflake(when, 999)
        self.channels[self.forum_post] = Channel(
            self.forum_post, 11, "Dark mode?", GUILD_A, parent_id=IDEAS
        )
        self.channels[self.forum_post].messages.append(
            Message(self.forum_post, self.forum_post, ADA, "Idea: dark mode")
        )
        self.add(self.forum_post, GRACE, "Yes please", 41)
        self.add(self.forum_post, LINUS, "No", 42)
        # A private thread: no starting message.
        self.private_thread = snowflake(START + datetime.timedelta(minutes=50), 998)
        self.channels[self.private_thread] = Channel(
            self.private_thread,
            12,
            "hiring",
            GUILD_A,
            parent_id=ENGINEERING,
            private=True,
            bot_joined=True,
        )
        self.add(self.private_thread, ADA, "Candidate list", 51)
        self.add(self.private_thread, GRACE, "Looks good", 52)
        for n in range(5):
            text = "flamegraph attached" if n == 3 else f"Engineering note {n}"
            self.add(ENGINEERING, [ADA, GRACE][n % 2], text, 60 + n)
        self.add(SECRET, ADA, "Budget", 70)
        self.add(BOTLAB, ADA, "lab is open", 75)
        self.add(RANDOM, GRACE, "Lunch?", 80)
        self.add(RANDOM, ADA, f"<@{BOT}> what is the flamegraph tool", 81, mentions=[BOT])
        self.add(RANDOM, LINUS, "Coffee", 82)
        self.add(DM_ADA, ADA, "Hi bot", 90)
        self.add(DM_ADA, BOT, "Hi Ada", 91)

    def _attachment(self, name: str) -> dict[str, Any]:
        url = f"https://cdn.discordapp.com/attachments/{GENERAL}/1/{name}"
        return {
            "id": "6000000000000000010",
            "filename": name,
            "size": 10,
            "url": url,
            "proxy_url": url,
        }

    # ---- objects as Discord answers them --------------------------------------------------

    def now(self) -> datetime.datetime:
        newest = max(int(m.id) for c in self.channels.values() for m in c.messages)
        return Message(str(newest), "", "", "").timestamp + datetime.timedelta(seconds=1)

    def message_object(self, message: Message, *, searched: bool = False) -> dict[str, Any]:
        """A MessageResponse (SearchMessageResponse, with ``hit`` and no reactions, in search)."""
        raw: dict[str, Any] = {
            "type": message.type,
            "content": message.content,
            "mentions": [user(u) for u in message.mentions],
            "mention_roles": message.mention_roles,
            "attachments": message.attachments,
            "embeds": [],
            "timestamp": message.timestamp.isoformat(),
            "edited_timestamp": message.edited,
            "flags": 0,
            "components": [],
            "id": message.id,
            "channel_id": message.channel_id,
            "author": user(message.author_id),
            "pinned": False,
            "mention_everyone": False,
            "tts": False,
        }
        if message.reference:
            raw["message_reference"] = message.reference
        thread = self.channels.get(message.id)
        if thread is not None and thread.id != message.channel_id:
            raw["thread"] = self.channel_object(thread)
        if searched:
            raw["hit"] = True
        elif message.reactions:
            raw["reactions"] = [
                {
                    "emoji": {"id": emoji_id, "name": name},
                    "count": len(users),
                    "count_details": {"burst": 0, "normal": len(users)},
                    "burst_colors": [],
                    "me_burst": False,
                    "me": BOT in users,
                }
                for (emoji_id, name), users in message.reactions.items()
            ]
        return raw

    def channel_object(self, channel: Channel) -> dict[str, Any]:
        """A guild channel, thread or DM channel object (resources/channel#channel-object)."""
        last = (channel.messages and max(channel.messages, key=lambda m: int(m.id)).id) or None
        if channel.type == 1:
            return {"id": channel.id, "type": 1, "flags": 0, "last_message_id": last,
                    "recipients": [user(ADA)]}  # fmt: skip
        raw: dict[str, Any] = {
            "id": channel.id,
            "type": channel.type,
            "flags": 0,
            "guild_id": channel.guild_id,
            "name": channel.name,
            "last_message_id": last,
            "parent_id": channel.parent_id,
        }
        if channel.type in (10, 11, 12):
            count = sum(1 for m in channel.messages if m.type != 21)
            raw.update(
                owner_id=ADA,
                message_count=count,
                member_count=2,
                total_message_sent=count,
                thread_metadata={
                    "archived": False,
                    "archive_timestamp": START.isoformat(),
                    "auto_archive_duration": 1440,
                    "locked": False,
                },
            )
            return raw
        hidden = {"id": channel.guild_id, "type": 0, "allow": "0", "deny": str(1 << 10)}
        raw.update(
            position=channel.position,
            topic=channel.topic,
            permission_overwrites=[hidden] if channel.private else [],
        )
        return raw

    def guild_object(self, guild_id: str) -> dict[str, Any]:
        name = {GUILD_A: "Test Guild", GUILD_B: "Second Guild"}[guild_id]
        return {"id": guild_id, "name": name, "icon": None, "banner": None, "owner": False,
                "permissions": "0", "features": []}  # fmt: skip

    def member_object(self, user_id: str) -> dict[str, Any]:
        return {
            "avatar": None,
            "banner": None,
            "communication_disabled_until": None,
            "flags": 0,
            "joined_at": START.isoformat(),
            "nick": "Countess" if user_id == ADA else None,
            "pending": False,
            "premium_since": None,
            "roles": [],
            "user": user(user_id),
            "mute": False,
            "deaf": False,
        }

    def find(self, channel_id: str, message_id: str) -> Message | None:
        channel = self.channels.get(channel_id)
        return next((m for m in channel.messages if m.id == message_id), None) if channel else None

    # ---- handlers -------------------------------------------------------------------------

    def install(self, fake: FakePlatform) -> None:
        """Answer every operation the Discord adapter calls from this world."""
        for operation, handler in {
            "get_my_user": self.get_my_user,
            "list_my_guilds": self.list_my_guilds,
            "list_guild_channels": self.list_guild_channels,
            "get_active_guild_threads": self.get_active_guild_threads,
            "get_channel": self.get_channel,
            "list_messages": self.list_messages,
            "get_message": self.get_message,
            "create_message": self.create_message,
            "update_message": self.update_message,
            "delete_message": self.delete_message,
            "add_my_message_reaction": self.add_reaction,
            "guild_search": self.guild_search,
            "list_guild_members": self.list_guild_members,
            "list_guild_roles": self.list_guild_roles,
            "list_guild_emojis": self.list_guild_emojis,
        }.items():
            fake.on(operation, handler)

    def get_my_user(self, request: Any) -> Any:
        return {**user(BOT), "mfa_enabled": False, "locale": "en-US"}

    def list_my_guilds(self, request: Any) -> Any:
        after = int(request.arguments.get("after", 0))
        limit = request.arguments.get("limit", 200)
        found = [g for g in (GUILD_A, GUILD_B) if int(g) > after][:limit]
        return [self.guild_object(guild) for guild in found]

    def list_guild_channels(self, request: Any) -> Any:
        guild = request.path_params["guild_id"]
        return [
            self.channel_object(c)
            for c in self.channels.values()
            if c.guild_id == guild and c.type not in (10, 11, 12)
        ]

    def get_active_guild_threads(self, request: Any) -> Any:
        guild = request.path_params["guild_id"]
        threads = [c for c in self.channels.values() if c.guild_id == guild and c.type in (11, 12)]
        threads.sort(key=lambda c: int(c.id), reverse=True)
        members = [
            {"id": t.id, "user_id": BOT, "join_timestamp": START.isoformat(), "flags": 0}
            for t in threads
            if t.bot_joined
        ]
        return {
            "threads": [self.channel_object(t) for t in threads],
            "members": members,
            "has_more": False,
        }

    def get_channel(self, request: Any) -> Any:
        channel = self.channels.get(request.path_params["channel_id"])
        if channel is None:
            return error(404, 10003, "Unknown Channel")
        return self.channel_object(channel)

    def list_messages(self, request: Any) -> Any:
        channel = self.channels.get(request.path_params["channel_id"])
        if channel is None:
            return error(404, 10003, "Unknown Channel")
        args = request.arguments
        limit = args.get("limit", 50)
        ordered = sorted(channel.messages, key=lambda m: int(m.id), reverse=True)
        if "after" in args:
            chosen = [m for m in ordered if int(m.id) > int(args["after"])][-limit:]
        else:
            before = int(args.get("before", 1 << 64))
            chosen = [m for m in ordered if int(m.id) < before][:limit]
        return [self.message_object(m) for m in chosen]

    def get_message(self, request: Any) -> Any:
        found = self.find(request.path_params["channel_id"], request.path_params["message_id"])
        if found is None:
            return error(404, 10008, "Unknown Message")
        return self.message_object(found)

    def create_message(self, request: Any) -> Any:
        channel = self.channels.get(request.path_params["channel_id"])
        if channel is None:
            return error(404, 10003, "Unknown Channel")
        body = request.body
        content = body["content"]
        mentioned = [u for u in re.findall(r"<@!?([0-9]+)>", content) if u in USERS]
        reference = None
        if body.get("message_reference"):
            target = body["message_reference"]["message_id"]
            if self.find(channel.id, target) is None:
                return error(400, 50035, "Invalid Form Body")
            reference = {"type": 0, "channel_id": channel.id, "message_id": target}
        message = Message(
            snowflake(self.now(), next(self.clock)),
            channel.id,
            BOT,
            content,
            type=19 if reference else 0,
            mentions=mentioned,
            reference=reference,
        )
        channel.messages.append(message)
        self.last_body = body
        return self.message_object(message)

    def update_message(self, request: Any) -> Any:
        found = self.find(request.path_params["channel_id"], request.path_params["message_id"])
        if found is None:
            return error(404, 10008, "Unknown Message")
        if found.author_id != BOT:
            return error(403, 50005, "Cannot edit a message authored by another user")
        found.content = request.body["content"]
        found.edited = self.now().isoformat()
        return self.message_object(found)

    def delete_message(self, request: Any) -> Any:
        channel_id = request.path_params["channel_id"]
        found = self.find(channel_id, request.path_params["message_id"])
        if found is None:
            return error(404, 10008, "Unknown Message")
        if found.author_id != BOT:
            return error(403, 50013, "Missing Permissions")
        self.channels[channel_id].messages.remove(found)
        return Reply(status=204)

    def add_reaction(self, request: Any) -> Any:
        found = self.find(request.path_params["channel_id"], request.path_params["message_id"])
        if found is None:
            return error(404, 10008, "Unknown Message")
        name = request.path_params["emoji_name"]
        key: tuple[str | None, str] = (None, name)
        if ":" in name:
            custom, _, custom_id = name.partition(":")
            if custom_id != PARTYPARROT:
                return error(400, 10014, "Unknown Emoji")
            key = (custom_id, custom)
        users = found.reactions.setdefault(key, [])
        if BOT not in users:
            users.append(BOT)
        return Reply(status=204)

    def guild_search(self, request: Any) -> Any:
        guild = request.path_params["guild_id"]
        args = request.arguments
        words = str(args.get("content", "")).lower().split()
        hits = []
        for channel in self.channels.values():
            if channel.guild_id != guild:
                continue
            if "channel_id" in args and channel.id not in args["channel_id"]:
                continue
            for m in channel.messages:
                if m.type == 21 or not all(word in m.content.lower() for word in words):
                    continue
                if "mentions" in args and not set(args["mentions"]) & set(m.mentions):
                    continue
                hits.append(m)
        hits.sort(key=lambda m: int(m.id), reverse=args.get("sort_order", "desc") == "desc")
        offset, limit = args.get("offset", 0), args.get("limit", 25)
        page = hits[offset : offset + limit]
        threads = {m.channel_id for m in page if self.channels[m.channel_id].type in (11, 12)}
        return {
            "messages": [[self.message_object(m, searched=True)] for m in page],
            "doing_deep_historical_index": False,
            "total_results": len(hits),
            "threads": [self.channel_object(self.channels[t]) for t in sorted(threads)],
        }

    def list_guild_members(self, request: Any) -> Any:
        guild = request.path_params["guild_id"]
        members = [BOT, ADA, GRACE, LINUS] if guild == GUILD_A else [BOT, ADA]
        after, limit = int(request.arguments.get("after", 0)), request.arguments.get("limit", 1)
        chosen = sorted((m for m in members if int(m) > after), key=int)[:limit]
        return [self.member_object(m) for m in chosen]

    def list_guild_roles(self, request: Any) -> Any:
        guild = request.path_params["guild_id"]
        roles = [(guild, "@everyone")] + ([(MODS, "Mods")] if guild == GUILD_A else [])
        return [
            {
                "id": role_id,
                "name": name,
                "permissions": "0",
                "position": n,
                "color": 0,
                "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
                "hoist": False,
                "managed": False,
                "mentionable": True,
                "icon": None,
                "unicode_emoji": None,
                "flags": 0,
            }
            for n, (role_id, name) in enumerate(roles)
        ]

    def list_guild_emojis(self, request: Any) -> Any:
        return [
            {
                "id": PARTYPARROT,
                "name": "partyparrot",
                "roles": [],
                "require_colons": True,
                "managed": False,
                "animated": False,
                "available": True,
            }
        ]


# ---- Discord's own answers to conditions the tests provoke -------------------------------------


def global_rate_limited(seconds: int = 0) -> Reply:
    """topics/rate-limits, "Example Exceeded Global Rate Limit Response" (plus ``code``, which
    the description's RatelimitedResponse requires)."""
    body = {"message": "You are being rate limited.", "retry_after": float(seconds)}
    headers = {
        "Retry-After": str(seconds),
        "X-RateLimit-Global": "true",
        "X-RateLimit-Scope": "global",
    }
    return Reply({**body, "global": True, "code": 0}, 429, headers)


def index_not_ready(retry_after: int = 0) -> Reply:
    """resources/message#search-guild-messages: 202 while the guild's index is being built."""
    body = {
        "message": "Index not yet available. Try again later",
        "code": 110000,
        "documents_indexed": 1200,
        "retry_after": retry_after,
    }
    return Reply(body, 202)
