"""A small Slack workspace for the tests: canned objects and a handler for every method used.

Every object is shaped as ``tests/support/specs/slack/slack_web_openapi_v2.json`` describes it
(its examples and definitions: ``objs_conversation``, ``objs_user``, ``objs_message``; ids and
``ts`` match ``defs_channel``, ``defs_user_id``, ``defs_ts``), and the fake checks every request
and answer against that file. search.messages's answer has no schema there ("Default success
template"): its shape (``messages.matches``, ``messages.paging``) is the example answer of
https://docs.slack.dev/reference/methods/search.messages, checked by :data:`SEARCH_ANSWER_SCHEMA`.

:class:`SlackWorld` keeps a little state (posted, edited, deleted messages, reactions, read
markers) so one workspace serves every tool in one session, as the stdio test needs.
"""

from __future__ import annotations

import base64
import itertools
from collections.abc import Callable
from typing import Any

from support.fake_platform import FakePlatform, RecordedRequest, Reply

ME = "U0ADA00001"
GRACE = "U0GRACE001"
LINUS = "U0LINUS001"
BOT = "U0DEPLOY01"
GONE = "U0GONE0001"
GENERAL = "C0GENERAL1"
RANDOM = "C0RANDOM01"
DESIGN = "C0DESIGN01"
LEADS = "G0LEADS001"
DM_GRACE = "D0GRACE001"
GROUP_DM = "G0MPDM0001"
TEAM = "T0TEAM0001"

#: https://docs.slack.dev/reference/methods/search.messages, example response: what the tests
#: rely on, as a JSON Schema (the 2021 description gives this method no answer schema).
SEARCH_ANSWER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["ok", "query", "messages"],
    "properties": {
        "ok": {"const": True},
        "query": {"type": "string"},
        "messages": {
            "type": "object",
            "required": ["matches", "paging", "total"],
            "properties": {
                "total": {"type": "integer"},
                "paging": {
                    "type": "object",
                    "required": ["count", "page", "pages", "total"],
                    "properties": {
                        k: {"type": "integer"} for k in ("count", "page", "pages", "total")
                    },
                },
                "matches": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": [
                            "channel",
                            "ts",
                            "text",
                            "type",
                            "permalink",
                            "user",
                            "username",
                        ],
                        "properties": {
                            "channel": {
                                "type": "object",
                                "required": ["id", "name"],
                                "properties": {
                                    "id": {"type": "string"},
                                    "name": {"type": "string"},
                                },
                            },
                            "ts": {"type": "string", "pattern": r"^\d{10}\.\d{6}$"},
                            "permalink": {"type": "string"},
                        },
                    },
                },
            },
        },
    },
}


def ts(n: int) -> str:
    """The ``ts`` of the n-th message of the workspace (ten-digit seconds, six-digit fraction)."""
    return f"{1_750_000_000 + n * 60}.{n:06d}"


def profile(real: str, display: str) -> dict[str, Any]:
    """An ``objs_user_profile`` with the fields the description requires."""
    return {
        "real_name": real,
        "real_name_normalized": real,
        "display_name": display,
        "display_name_normalized": display,
        "avatar_hash": "ge3b51ca72de",
        "title": "",
        "phone": "",
        "skype": "",
        "status_text": "",
        "status_emoji": "",
        "fields": None,
    }


def user(
    user_id: str, name: str, real: str, *, bot: bool = False, deleted: bool = False
) -> dict[str, Any]:
    """An ``objs_user`` (users.info's example answer, trimmed)."""
    return {
        "id": user_id,
        "team_id": TEAM,
        "name": name,
        "deleted": deleted,
        "real_name": real,
        "profile": profile(real, "" if bot else real),
        "is_bot": bot,
        "is_app_user": False,
        "updated": 1_502_138_686,
    }


def conversation(channel_id: str, name: str, **flags: Any) -> dict[str, Any]:
    """An ``objs_conversation`` for a channel (conversations.info's example answer)."""
    base: dict[str, Any] = {
        "id": channel_id,
        "name": name,
        "name_normalized": name,
        "created": 1_449_252_889,
        "creator": GRACE,
        "is_archived": False,
        "is_channel": True,
        "is_general": False,
        "is_group": False,
        "is_im": False,
        "is_mpim": False,
        "is_org_shared": False,
        "is_private": False,
        "is_shared": False,
        "is_member": True,
        "num_members": 4,
        "topic": {"value": f"All about {name}", "creator": GRACE, "last_set": 1_449_709_364},
        "purpose": {"value": "", "creator": "", "last_set": 0},
    }
    return base | flags


def direct(channel_id: str, other: str) -> dict[str, Any]:
    """The IM variant of ``objs_conversation`` (requires ``user`` and ``priority``)."""
    return {
        "id": channel_id,
        "created": 1_449_252_889,
        "is_im": True,
        "is_org_shared": False,
        "user": other,
        "priority": 0,
    }


USERS = [
    user(ME, "ada", "Ada Lovelace"),
    user(GRACE, "grace", "Grace Hopper"),
    user(LINUS, "linus", "Linus Torvalds"),
    user(BOT, "deploybot", "Deploy Bot", bot=True),
    user(GONE, "old", "Old Account", deleted=True),
]
CHANNELS = [
    conversation(GENERAL, "general", is_general=True),
    conversation(RANDOM, "random"),
    conversation(DESIGN, "design", is_member=False),
    conversation(LEADS, "leads", is_channel=False, is_group=True, is_private=True),
    direct(DM_GRACE, GRACE),
    conversation(
        GROUP_DM,
        "mpdm-ada--grace--linus-1",
        is_channel=False,
        is_group=True,
        is_mpim=True,
        is_private=True,
    ),
]


def message(n: int, author: str, text: str, **extra: Any) -> dict[str, Any]:
    """An ``objs_message`` (conversations.history's example answer)."""
    return {"type": "message", "user": author, "text": text, "ts": ts(n), **extra}


def seed_messages() -> dict[str, list[dict[str, Any]]]:
    """Each channel's messages, oldest first (thread replies live with their channel)."""
    root = ts(3)
    return {
        GENERAL: [
            message(1, GRACE, "Welcome to *general* &amp; friends"),
            message(
                2, LINUS, "See <https://example.org/release|the release notes> in <#C0RANDOM01>"
            ),
            message(
                3,
                GRACE,
                "Deploy thread: flamegraph attached",
                reply_count=3,
                reply_users=[LINUS, ME],
                latest_reply=ts(6),
                thread_ts=root,
            ),
            message(4, LINUS, "flamegraph looks fine", thread_ts=root, parent_user_id=GRACE),
            message(5, ME, "agreed", thread_ts=root, parent_user_id=GRACE),
            message(
                6, GRACE, "<@U0ADA00001> can you ship it?", thread_ts=root, parent_user_id=GRACE
            ),
            message(
                7,
                LINUS,
                "<@U0ADA00001> review please: _small_ change",
                reactions=[{"name": "eyes", "users": [GRACE], "count": 1}],
            ),
            message(
                8,
                BOT,
                "Deployed `v1.2` to <#C0GENERAL1|general>",
                edited={"user": BOT, "ts": ts(9)},
            ),
            message(10, GRACE, "lunch?"),
            message(11, LINUS, "<!here> standup in 5"),
        ],
        RANDOM: [
            message(n, GRACE if n % 2 else LINUS, f"random chatter {n}") for n in range(20, 26)
        ],
        DESIGN: [message(30, GRACE, "mockups are up")],
        LEADS: [message(40, GRACE, "budget review <@U0ADA00001>"), message(41, LINUS, "ok")],
        DM_GRACE: [message(50, GRACE, "are you there?"), message(51, ME, "yes")],
        GROUP_DM: [message(60, LINUS, "plans for friday")],
    }


#: Each conversation's read marker (``last_read``): what catch_up counts from.
READ_MARKERS = {
    GENERAL: ts(2),  # 8 newer, 6 top-level of them (thread replies are not in history)
    RANDOM: ts(25),  # all read
    LEADS: ts(39),  # 2 unread, one mentions Ada
    DM_GRACE: ts(50),  # 1 unread (Ada's own reply)
    GROUP_DM: ts(60),  # read; conversations.info shows `latest` as read
}


def ts_argument(value: Any) -> str:
    """A ``ts`` argument as sent: the description types some as ``number``, decoded to float."""
    return f"{value:.6f}" if isinstance(value, float) else str(value)


def _cursor(offset: int) -> str:
    return base64.b64encode(f"offset:{offset}".encode()).decode()


def _offset(request: RecordedRequest) -> int:
    cursor = request.arguments.get("cursor")
    if not cursor:
        return 0
    return int(base64.b64decode(cursor).decode().split(":", 1)[1])


def page(
    items: list[Any], request: RecordedRequest, default: int = 100
) -> tuple[list[Any], dict[str, Any]]:
    """A cursor page of ``items`` as Slack's methods give it (``response_metadata.next_cursor``)."""
    start = _offset(request)
    size = int(request.arguments.get("limit") or default)
    chunk = items[start : start + size]
    more = start + size < len(items)
    return chunk, {"next_cursor": _cursor(start + size) if more else ""}


class SlackWorld:
    """The workspace's state and the fake's handlers."""

    def __init__(self) -> None:
        self.users = {item["id"]: item for item in USERS}
        self.channels = {item["id"]: item for item in CHANNELS}
        self.messages = seed_messages()
        self.read_markers = dict(READ_MARKERS)
        self._numbers = itertools.count(100)

    # ---- looking things up ----------------------------------------------------------------

    def find(self, channel: str, when: str) -> dict[str, Any] | None:
        return next((m for m in self.messages.get(channel, []) if m["ts"] == when), None)

    def top_level(self, channel: str) -> list[dict[str, Any]]:
        """What conversations.history lists: no thread replies, newest first."""
        return [
            m
            for m in reversed(self.messages.get(channel, []))
            if m.get("thread_ts") in (None, m["ts"])
        ]

    def install(self, fake: FakePlatform) -> FakePlatform:
        """Answer every method the adapter calls."""
        handlers: dict[str, Callable[[RecordedRequest], Any]] = {
            "auth_test": self.auth_test,
            "users_info": self.users_info,
            "users_list": self.users_list,
            "conversations_list": self.conversations_list,
            "users_conversations": self.users_conversations,
            "conversations_info": self.conversations_info,
            "conversations_history": self.conversations_history,
            "conversations_replies": self.conversations_replies,
            "search_messages": self.search_messages,
            "chat_postMessage": self.post,
            "chat_update": self.update,
            "chat_delete": self.delete,
            "reactions_add": self.react,
            "reactions_get": self.reactions,
            "conversations_mark": self.mark,
        }
        for operation, handler in handlers.items():
            fake.on(operation, handler)
        return fake

    # ---- handlers (answers as the description's examples show them) -----------------------

    def auth_test(self, request: RecordedRequest) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://subarachnoid.slack.com/",
            "team": "Subarachnoid Workspace",
            "user": "ada",
            "team_id": TEAM,
            "user_id": ME,
        }

    def users_info(self, request: RecordedRequest) -> Any:
        found = self.users.get(request.arguments.get("user", ""))
        if found is None:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "user": found}

    def users_list(self, request: RecordedRequest) -> dict[str, Any]:
        members, metadata = page(list(self.users.values()), request)
        return {
            "ok": True,
            "members": members,
            "cache_ts": 1_498_777_272,
            "response_metadata": metadata,
        }

    def conversations_list(self, request: RecordedRequest) -> dict[str, Any]:
        wanted = set(str(request.arguments.get("types") or "public_channel").split(","))
        listed = [c for c in self.channels.values() if _type_of(c) in wanted]
        channels, metadata = page(listed, request)
        return {"ok": True, "channels": channels, "response_metadata": metadata}

    def users_conversations(self, request: RecordedRequest) -> dict[str, Any]:
        mine = [c for c in self.channels.values() if c.get("is_member", True)]
        channels, metadata = page(mine, request)
        return {"ok": True, "channels": channels, "response_metadata": metadata}

    def conversations_info(self, request: RecordedRequest) -> Any:
        channel = request.arguments.get("channel", "")
        found = self.channels.get(channel)
        if found is None:
            return {"ok": False, "error": "channel_not_found"}
        info = dict(found)
        if channel in self.read_markers:
            info["last_read"] = self.read_markers[channel]
        if found.get("is_im"):
            # The IM object carries unread counts and the latest message (objs_conversation's
            # "Conversation IM Channel Object").
            newest = self.top_level(channel)[0]
            unread = [m for m in self.top_level(channel) if m["ts"] > info.get("last_read", "0")]
            info["unread_count"] = info["unread_count_display"] = len(unread)
            info["latest"] = newest
        if found.get("is_mpim"):
            info["latest"] = self.top_level(channel)[0]
        return {"ok": True, "channel": info}

    def conversations_history(self, request: RecordedRequest) -> Any:
        channel = request.arguments.get("channel", "")
        if channel not in self.channels:
            return {"ok": False, "error": "channel_not_found"}
        oldest = float(request.arguments.get("oldest") or 0)
        latest = float(request.arguments.get("latest") or 10**11)
        window = [m for m in self.top_level(channel) if oldest < float(m["ts"]) < latest]
        messages, metadata = page(window, request)
        return {
            "ok": True,
            "messages": messages,
            "has_more": bool(metadata["next_cursor"]),
            "pin_count": 0,
            "channel_actions_ts": None,
            "channel_actions_count": 0,
            "response_metadata": metadata,
        }

    def conversations_replies(self, request: RecordedRequest) -> Any:
        channel = request.arguments.get("channel", "")
        asked = self.find(channel, ts_argument(request.arguments.get("ts")))
        if asked is None:
            return {"ok": False, "error": "thread_not_found"}
        root = asked.get("thread_ts") or asked["ts"]
        thread = [m for m in self.messages[channel] if (m.get("thread_ts") or m["ts"]) == root]
        messages, metadata = page(thread, request)
        if _offset(request) and thread[0] not in messages:
            messages = [thread[0], *messages]  # Slack repeats the root on every page
        return {
            "ok": True,
            "messages": messages,
            "has_more": bool(metadata["next_cursor"]),
            "response_metadata": metadata,
        }

    def search_messages(self, request: RecordedRequest) -> dict[str, Any]:
        query = str(request.arguments["query"])
        words = [w for w in query.split() if not w.startswith("in:")]
        scope = [w[len("in:<#") : -1] for w in query.split() if w.startswith("in:<#")]
        found = [
            (channel, m)
            for channel, messages in self.messages.items()
            for m in messages
            if (not scope or channel in scope) and all(w in m["text"] for w in words)
        ]
        if request.arguments.get("sort") == "timestamp":
            found.sort(key=lambda pair: pair[1]["ts"], reverse=True)
        count = int(request.arguments.get("count") or 20)
        number = int(request.arguments.get("page") or 1)
        chunk = found[(number - 1) * count : number * count]
        pages = max(1, -(-len(found) // count))
        return {
            "ok": True,
            "query": query,
            "messages": {
                "matches": [self._match(channel, m) for channel, m in chunk],
                "paging": {"count": count, "page": number, "pages": pages, "total": len(found)},
                "pagination": {
                    "first": 1,
                    "last": len(chunk),
                    "page": number,
                    "page_count": pages,
                    "per_page": count,
                    "total_count": len(found),
                },
                "total": len(found),
            },
        }

    def _match(self, channel: str, m: dict[str, Any]) -> dict[str, Any]:
        info = self.channels[channel]
        link = f"https://subarachnoid.slack.com/archives/{channel}/p{m['ts'].replace('.', '')}"
        if m.get("thread_ts") not in (None, m["ts"]):
            link += f"?thread_ts={m['thread_ts']}&cid={channel}"
        author = self.users[m["user"]]
        return {
            "channel": {
                "id": channel,
                "name": info.get("name", info.get("user", "")),
                "is_private": bool(info.get("is_private")),
                "is_mpim": bool(info.get("is_mpim")),
            },
            "iid": f"cb64bdaa-c1e8-4631-8a91-{m['ts'][-6:]:0>12}",
            "permalink": link,
            "team": TEAM,
            "text": m["text"],
            "ts": m["ts"],
            "type": "message",
            "user": m["user"],
            "username": author["name"],
        }

    def post(self, request: RecordedRequest) -> Any:
        channel = request.arguments["channel"]
        if channel not in self.channels:
            return {"ok": False, "error": "channel_not_found"}
        if channel == DESIGN:
            return {"ok": False, "error": "not_in_channel"}
        posted = message(next(self._numbers), ME, request.arguments["text"])
        thread_ts = request.arguments.get("thread_ts")
        if thread_ts:
            posted["thread_ts"] = thread_ts
            posted["parent_user_id"] = self.find(channel, thread_ts)["user"]
        self.messages[channel].append(posted)
        return {"ok": True, "channel": channel, "ts": posted["ts"], "message": posted}

    def update(self, request: RecordedRequest) -> Any:
        channel, when = request.arguments["channel"], request.arguments["ts"]
        found = self.find(channel, when)
        if found is None:
            return {"ok": False, "error": "message_not_found"}
        if found["user"] != ME:
            return {"ok": False, "error": "cant_update_message"}
        found["text"] = request.arguments["text"]
        found["edited"] = {"user": ME, "ts": ts(next(self._numbers))}
        # chat.update's example answer: the message carries its text and author only.
        return {
            "ok": True,
            "channel": channel,
            "ts": when,
            "text": found["text"],
            "message": {"text": found["text"], "user": ME},
        }

    def delete(self, request: RecordedRequest) -> Any:
        channel, when = request.arguments["channel"], request.arguments["ts"]
        found = self.find(channel, ts_argument(when))
        if found is None:
            return {"ok": False, "error": "message_not_found"}
        if found["user"] != ME:
            return {"ok": False, "error": "cant_delete_message"}
        self.messages[channel].remove(found)
        return {"ok": True, "channel": channel, "ts": found["ts"]}

    def react(self, request: RecordedRequest) -> Any:
        channel, when, name = (request.arguments[k] for k in ("channel", "timestamp", "name"))
        found = self.find(channel, when)
        if found is None:
            return {"ok": False, "error": "message_not_found"}
        reactions = found.setdefault("reactions", [])
        mine = next((r for r in reactions if r["name"] == name), None)
        if mine is not None and ME in mine["users"]:
            return {"ok": False, "error": "already_reacted"}
        if mine is None:
            reactions.append({"name": name, "users": [ME], "count": 1})
        else:
            mine["users"].append(ME)
            mine["count"] += 1
        return {"ok": True}

    def reactions(self, request: RecordedRequest) -> Any:
        channel, when = request.arguments["channel"], request.arguments["timestamp"]
        found = self.find(channel, when)
        if found is None:
            return {"ok": False, "error": "message_not_found"}
        return {"ok": True, "type": "message", "channel": channel, "message": found}

    def mark(self, request: RecordedRequest) -> Any:
        channel = request.arguments["channel"]
        if channel not in self.channels:
            return {"ok": False, "error": "channel_not_found"}
        self.read_markers[channel] = ts_argument(request.arguments["ts"])
        return {"ok": True}


def _type_of(channel: dict[str, Any]) -> str:
    if channel.get("is_im"):
        return "im"
    if channel.get("is_mpim"):
        return "mpim"
    return "private_channel" if channel.get("is_private") else "public_channel"


def slack_error(code: str, **extra: Any) -> Reply:
    """Slack's way of failing: HTTP 200 with ``ok: false`` (https://docs.slack.dev/apis/web-api/#responses)."""
    return Reply({"ok": False, "error": code, **extra})
