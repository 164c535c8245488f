"""A small Microsoft Teams behind Microsoft Graph v1.0, for the teams preset's tests.

Objects are shaped like the examples of Graph's reference pages, with their ids and names
where they fit: chat-list (https://learn.microsoft.com/graph/api/chat-list, chats and
members), chat-list-messages and channel-list-messages (chatMessage, ``@odata.nextLink`` with
``$skiptoken``), chat-get (``viewpoint``, ``tenantId``, ``lastMessagePreview``), and
search-concept-chat-messages (search hits). Every request and answer goes through
``FakePlatform`` against ``graph_description.py``. The handlers also hold the preset to the
rules those pages state: ``$top`` at most 50; chat ``$filter`` only with an ``$orderby`` on
the same property, ``createdDateTime`` only with ``lt``; chats soft-deleted under
``/users/{id}``; ``markChatReadForUser`` with the user's id and tenant.

Times are relative to now, because a channel's first catch-up covers the last 24 hours.
"""

from __future__ import annotations

import copy
import datetime
import itertools
import re
from typing import Any
from urllib.parse import quote

from support.fake_platform import FakePlatform, RecordedRequest, Reply

TENANT = "2432b57b-0abd-43db-aa7b-16eadd115d34"
ME = {"id": "8ea0e38b-efb3-4757-924a-5f94061cf8c2", "displayName": "Robin Kline"}
JANE = {"id": "ef1c916a-3135-4417-ba27-8eb7bd084193", "displayName": "Jane Smith"}
NICK = {"id": "8c0a1a67-50ce-4114-bb6c-da9c5dbcf6ca", "displayName": "Nick Fury"}
PEOPLE = [ME, JANE, NICK]
MAIL = {
    ME["id"]: "robin@contoso.com",
    JANE["id"]: "jane@contoso.com",
    NICK["id"]: "nick@contoso.com",
}

TEAM = "fbe2bf47-16c8-47cf-b4a5-4b9b187c508b"
GENERAL = "19:4a95f7d8db4c4e7fae857bcebe0623e6@thread.tacv2"
INCIDENTS = "19:a21b0b0c05194ebc9e30000000000f61@thread.tacv2"
ONE_ON_ONE = f"19:{ME['id']}_{JANE['id']}@unq.gbl.spaces"
GROUP = "19:561082c0f3f847a58069deb8eb300807@thread.v2"
GENERAL_PATH = f"teams/{TEAM}/channels/{GENERAL}"
INCIDENTS_PATH = f"teams/{TEAM}/channels/{INCIDENTS}"
ONE_ON_ONE_PATH = f"chats/{ONE_ON_ONE}"
GROUP_PATH = f"chats/{GROUP}"
MAX_TOP = 50


def stamp(when: datetime.datetime) -> str:
    """Graph's timestamp form, ``2021-03-28T20:48:29.832Z``."""
    return when.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _from(person: dict[str, str]) -> dict[str, Any]:
    user = {**person, "userIdentityType": "aadUser"}
    return {"application": None, "device": None, "user": user}


class GraphWorld:
    """The world's state and its handlers; ``root`` is the fake's URL (for nextLinks)."""

    def __init__(self, root: str) -> None:
        self.root = root.rstrip("/")
        self.now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
        self.ids = itertools.count(int(self.now.timestamp() * 1000))
        self.channel_messages: dict[str, list[dict[str, Any]]] = {GENERAL: [], INCIDENTS: []}
        self.chat_messages: dict[str, list[dict[str, Any]]] = {ONE_ON_ONE: [], GROUP: []}
        self.read: dict[str, str] = {}
        self._seed()

    def ago(self, minutes: float) -> str:
        return stamp(self.now - datetime.timedelta(minutes=minutes))

    def message(
        self,
        person: dict[str, str],
        minutes_ago: float,
        html: str,
        *,
        chat: str | None = None,
        channel: str | None = None,
        reply_to: str | None = None,
        mentions: tuple[dict[str, str], ...] = (),
    ) -> dict[str, Any]:
        """A chatMessage as chat-list-messages and channel-list-messages show one."""
        created = self.ago(minutes_ago)
        return {
            "id": str(next(self.ids)),
            "replyToId": reply_to,
            "etag": "1",
            "messageType": "message",
            "createdDateTime": created,
            "lastModifiedDateTime": created,
            "lastEditedDateTime": None,
            "deletedDateTime": None,
            "subject": None,
            "summary": None,
            "chatId": chat,
            "importance": "normal",
            "locale": "en-us",
            "webUrl": None,
            "channelIdentity": {"teamId": TEAM, "channelId": channel} if channel else None,
            "from": _from(person),
            "body": {"contentType": "html", "content": html},
            "attachments": [],
            "mentions": [
                {"id": n, "mentionText": who["displayName"], "mentioned": _from(who)}
                for n, who in enumerate(mentions)
            ],
            "reactions": [],
        }

    def _seed(self) -> None:
        post = self.message(NICK, 180, "<p>Release <b>train</b> leaves at 3</p>", channel=GENERAL)
        post["replies"] = [
            self.message(JANE, 170, "<p>on board</p>", channel=GENERAL, reply_to=post["id"]),
            self.message(ME, 160, "<p>me too</p>", channel=GENERAL, reply_to=post["id"]),
        ]
        ask = self.message(
            JANE,
            120,
            '<p><at id="0">Robin Kline</at> can you check the <a href="https://grafana.contoso.com/d/1">flamegraph</a>?</p>',
            channel=GENERAL,
            mentions=[ME],
        )
        ask["reactions"] = [
            {
                "reactionType": "👀",
                "displayName": "Eyes",
                "createdDateTime": self.ago(110),
                "user": _from(NICK),
            }
        ]
        event = self.message(NICK, 100, "<systemEventMessage/>", channel=GENERAL)
        event.update(messageType="systemEventMessage", **{"from": None})
        bulk = [
            self.message(
                NICK if n % 2 else JANE, 90 - n * 10, f"<p>Build {n} is green</p>", channel=GENERAL
            )
            for n in range(1, 6)
        ]
        old = self.message(JANE, 60 * 48, "<p>Welcome to General</p>", channel=GENERAL)
        self.channel_messages[GENERAL] = [old, post, ask, event, *bulk]
        for item in self.channel_messages[GENERAL]:
            item.setdefault("replies", [])
        self.channel_messages[INCIDENTS] = [
            {**self.message(NICK, 60 * 30, "<p>All quiet</p>", channel=INCIDENTS), "replies": []}
        ]
        self.chat_messages[ONE_ON_ONE] = [
            self.message(JANE, 300, "<p>Lunch?</p>", chat=ONE_ON_ONE),
            self.message(ME, 290, "<p>Sure</p>", chat=ONE_ON_ONE),
            self.message(JANE, 30, "<p>Running <i>late</i></p>", chat=ONE_ON_ONE),
            self.message(JANE, 20, "<p>Order the flamegraph pizza for me</p>", chat=ONE_ON_ONE),
        ]
        self.read[ONE_ON_ONE] = self.ago(200)
        self.chat_messages[GROUP] = [
            self.message(NICK, 400, "<p>Launch crew assemble</p>", chat=GROUP),
        ]
        self.read[GROUP] = self.ago(390)

    # ---- installing ----------------------------------------------------------------------

    def install(self, fake: FakePlatform) -> None:
        """Answer every operation of graph_description.py."""
        handlers = {
            "me_get": self.me,
            "me_joinedTeams": self.joined_teams,
            "team_get": self.team,
            "channel_list": self.channels,
            "channel_get": self.channel,
            "channel_messages": self.list_channel_messages,
            "channel_post": self.post_channel_message,
            "channel_message_get": self.get_message,
            "channel_message_update": self.update_message,
            "channel_message_setReaction": self.set_reaction,
            "channel_message_softDelete": self.soft_delete,
            "replies": self.list_replies,
            "reply_post": self.post_reply,
            "reply_get": self.get_message,
            "reply_update": self.update_message,
            "reply_setReaction": self.set_reaction,
            "reply_softDelete": self.soft_delete,
            "me_chats": self.list_chats,
            "chat_get": self.get_chat,
            "chat_messages": self.list_chat_messages,
            "chat_post": self.post_chat_message,
            "chat_message_get": self.get_message,
            "chat_message_update": self.update_message,
            "chat_message_setReaction": self.set_reaction,
            "chat_message_softDelete": self.soft_delete,
            "chat_markRead": self.mark_read,
            "search_query": self.search,
            "users_list": self.users,
        }
        for operation, handler in handlers.items():
            fake.on(operation, handler)

    def page(self, items: list[Any], request: RecordedRequest, default: int) -> dict[str, Any]:
        """``value`` and, when more is left, an ``@odata.nextLink`` with ``$skiptoken``."""
        top = int(request.arguments.get("$top", default))
        assert top <= MAX_TOP or request.operation_id == "users_list", f"$top={top} > 50"
        start = int(request.arguments.get("$skiptoken", 0))
        answer: dict[str, Any] = {"value": copy.deepcopy(items[start : start + top])}
        if start + top < len(items):
            kept = {k: v for k, v in request.arguments.items() if k != "$skiptoken"}
            kept["$skiptoken"] = str(start + top)
            query = "&".join(f"{k}={quote(str(v), safe=':@,$')}" for k, v in kept.items())
            answer["@odata.nextLink"] = f"{self.root}{request.path}?{query}"
        return answer

    # ---- people, teams, channels ---------------------------------------------------------

    def me(self, request: RecordedRequest) -> dict[str, Any]:
        return {**ME, "userPrincipalName": MAIL[ME["id"]], "mail": MAIL[ME["id"]]}

    def users(self, request: RecordedRequest) -> dict[str, Any]:
        assert request.arguments["$select"] == "id,displayName,userPrincipalName,mail"
        everyone = [
            {**person, "userPrincipalName": MAIL[person["id"]], "mail": MAIL[person["id"]]}
            for person in PEOPLE
        ]
        return self.page(everyone, request, 100)

    def joined_teams(self, request: RecordedRequest) -> dict[str, Any]:
        return {"value": [{"id": TEAM, "displayName": "Contoso Engineering", "tenantId": TENANT}]}

    def team(self, request: RecordedRequest) -> Any:
        if request.path_params["team-id"] != TEAM:
            return not_found()
        return {"id": TEAM, "displayName": "Contoso Engineering", "description": "Engineering"}

    def _channels(self) -> list[dict[str, Any]]:
        return [
            {"id": GENERAL, "displayName": "General", "membershipType": "standard",
             "description": "Everything", "tenantId": TENANT},
            {"id": INCIDENTS, "displayName": "Incidents", "membershipType": "private",
             "description": None, "tenantId": TENANT},
        ]  # fmt: skip

    def channels(self, request: RecordedRequest) -> dict[str, Any]:
        return {"value": self._channels()}

    def channel(self, request: RecordedRequest) -> Any:
        wanted = request.path_params["channel-id"]
        return next((c for c in self._channels() if c["id"] == wanted), None) or not_found()

    # ---- messages ------------------------------------------------------------------------

    def _messages_of(self, request: RecordedRequest) -> list[dict[str, Any]]:
        params = request.path_params
        if "chat-id" in params:
            return self.chat_messages[params["chat-id"]]
        return self.channel_messages[params["channel-id"]]

    def _find(self, request: RecordedRequest) -> dict[str, Any] | None:
        params = request.path_params
        found = next(
            (m for m in self._messages_of(request) if m["id"] == params["message-id"]), None
        )
        if found is not None and "reply-id" in params:
            found = next((r for r in found["replies"] if r["id"] == params["reply-id"]), None)
        return found

    def list_channel_messages(self, request: RecordedRequest) -> dict[str, Any]:
        newest_first = sorted(
            self._messages_of(request), key=lambda m: m["createdDateTime"], reverse=True
        )
        page = self.page(newest_first, request, 20)
        if request.arguments.get("$expand") != "replies":
            for item in page["value"]:
                item.pop("replies", None)
        return page

    def list_replies(self, request: RecordedRequest) -> Any:
        root = next(
            (m for m in self._messages_of(request) if m["id"] == request.path_params["message-id"]),
            None,
        )
        if root is None:
            return not_found()
        replies = sorted(root["replies"], key=lambda m: m["createdDateTime"], reverse=True)
        return self.page(replies, request, 20)

    def list_chat_messages(self, request: RecordedRequest) -> dict[str, Any]:
        order = request.arguments.get("$orderby", "lastModifiedDateTime desc")
        where = request.arguments.get("$filter")
        prop = order.split()[0]
        assert order in ("lastModifiedDateTime desc", "createdDateTime desc"), order
        found = list(self._messages_of(request))
        if where is not None:
            match = re.fullmatch(r"(\w+) (gt|lt) (\S+)", where)
            assert match is not None, f"$filter {where!r}"
            assert match[1] == prop, f"$filter {where!r} needs $orderby on it, not {order!r}"
            assert not (prop == "createdDateTime" and match[2] == "gt"), "createdDateTime: lt only"
            bound = match[3]
            found = [m for m in found if (m[prop] > bound if match[2] == "gt" else m[prop] < bound)]
        found.sort(key=lambda m: m[prop], reverse=True)
        return self.page(found, request, 20)

    def get_message(self, request: RecordedRequest) -> Any:
        found = self._find(request)
        return copy.deepcopy(found) if found is not None else not_found()

    def _create(self, request: RecordedRequest, reply_to: str | None = None) -> dict[str, Any]:
        params = request.path_params
        created = self.message(
            ME,
            0,
            request.body["body"]["content"],
            chat=params.get("chat-id"),
            channel=params.get("channel-id"),
            reply_to=reply_to,
        )
        created["body"]["contentType"] = request.body["body"].get("contentType", "text")
        created["createdDateTime"] = created["lastModifiedDateTime"] = stamp(
            datetime.datetime.now(datetime.UTC)
        )
        return created

    def post_chat_message(self, request: RecordedRequest) -> Reply:
        created = self._create(request)
        self.chat_messages[request.path_params["chat-id"]].append(created)
        return Reply(copy.deepcopy(created), 201)

    def post_channel_message(self, request: RecordedRequest) -> Reply:
        created = {**self._create(request), "replies": []}
        self.channel_messages[request.path_params["channel-id"]].append(created)
        return Reply(copy.deepcopy({k: v for k, v in created.items() if k != "replies"}), 201)

    def post_reply(self, request: RecordedRequest) -> Any:
        root = next(
            (m for m in self._messages_of(request) if m["id"] == request.path_params["message-id"]),
            None,
        )
        if root is None:
            return not_found()
        created = self._create(request, reply_to=root["id"])
        root["replies"].append(created)
        return Reply(copy.deepcopy(created), 201)

    def update_message(self, request: RecordedRequest) -> Reply:
        found = self._find(request)
        if found is None:
            return not_found()
        found["body"] = dict(request.body["body"])
        found["lastEditedDateTime"] = stamp(datetime.datetime.now(datetime.UTC))
        return Reply(status=204)

    def soft_delete(self, request: RecordedRequest) -> Reply:
        if "user-id" in request.path_params:
            assert request.path_params["user-id"] == ME["id"]
        found = self._find(request)
        if found is None:
            return not_found()
        found["deletedDateTime"] = stamp(datetime.datetime.now(datetime.UTC))
        return Reply(status=204)

    def set_reaction(self, request: RecordedRequest) -> Reply:
        found = self._find(request)
        if found is None:
            return not_found()
        found["reactions"].append(
            {
                "reactionType": request.body["reactionType"],
                "createdDateTime": stamp(datetime.datetime.now(datetime.UTC)),
                "user": _from(ME),
            }
        )
        return Reply(status=204)

    # ---- chats ---------------------------------------------------------------------------

    def _chat(self, chat_id: str, expand: str) -> dict[str, Any]:
        members = [ME, JANE] if chat_id == ONE_ON_ONE else [ME, JANE, NICK]
        chat: dict[str, Any] = {
            "id": chat_id,
            "topic": None if chat_id == ONE_ON_ONE else "Launch crew",
            "createdDateTime": self.ago(60 * 24 * 30),
            "lastUpdatedDateTime": self.chat_messages[chat_id][-1]["createdDateTime"],
            "chatType": "oneOnOne" if chat_id == ONE_ON_ONE else "group",
            "tenantId": TENANT,
            "viewpoint": {"isHidden": False, "lastMessageReadDateTime": self.read[chat_id]},
        }
        if "members" in expand:
            chat["members"] = [
                {
                    "@odata.type": "#microsoft.graph.aadUserConversationMember",
                    "id": f"member-{person['id']}",
                    "roles": ["owner"],
                    "displayName": person["displayName"],
                    "userId": person["id"],
                    "email": MAIL[person["id"]],
                    "tenantId": TENANT,
                }
                for person in members
            ]
        if "lastMessagePreview" in expand:
            last = self.chat_messages[chat_id][-1]
            chat["lastMessagePreview"] = {
                "id": last["id"],
                "createdDateTime": last["createdDateTime"],
                "isDeleted": False,
                "messageType": "message",
                "body": last["body"],
                "from": last["from"],
            }
        return chat

    def list_chats(self, request: RecordedRequest) -> dict[str, Any]:
        expand = request.arguments.get("$expand", "")
        chats = [self._chat(chat_id, expand) for chat_id in (ONE_ON_ONE, GROUP)]
        return self.page(chats, request, 50)

    def get_chat(self, request: RecordedRequest) -> Any:
        chat_id = request.path_params["chat-id"]
        if chat_id not in self.chat_messages:
            return not_found()
        return self._chat(chat_id, request.arguments.get("$expand", ""))

    def mark_read(self, request: RecordedRequest) -> Reply:
        assert request.body == {"user": {"id": ME["id"], "tenantId": TENANT}}
        chat_id = request.path_params["chat-id"]
        self.read[chat_id] = stamp(datetime.datetime.now(datetime.UTC))
        return Reply(status=204)

    # ---- search --------------------------------------------------------------------------

    def search(self, request: RecordedRequest) -> dict[str, Any]:
        [asked] = request.body["requests"]
        words = asked["query"]["queryString"]
        start, size = asked.get("from", 0), asked.get("size", 25)
        everything = [
            (m, chat_id, None) for chat_id, items in self.chat_messages.items() for m in items
        ] + [(m, None, channel) for channel, items in self.channel_messages.items() for m in items]
        if words == "IsMentioned:true":
            found = [
                item
                for item in everything
                if any(x["mentioned"]["user"]["id"] == ME["id"] for x in item[0]["mentions"])
            ]
        else:
            found = [
                item
                for item in everything
                if all(w.lower() in item[0]["body"]["content"].lower() for w in words.split())
            ]
        found.sort(key=lambda item: item[0]["createdDateTime"], reverse=True)
        hits = [self._hit(*item) for item in found[start : start + size]]
        container = {
            "hits": hits,
            "total": len(hits),
            "moreResultsAvailable": start + size < len(found),
        }
        return {"value": [{"searchTerms": words.split(), "hitsContainers": [container]}]}

    def _hit(self, item: dict[str, Any], chat: str | None, channel: str | None) -> dict[str, Any]:
        """A hit shaped as search-concept-chat-messages shows one: a summary, no body."""
        person = item["from"]["user"]
        resource: dict[str, Any] = {
            "@odata.type": "microsoft.graph.chatMessage",
            "id": item["id"],
            "createdDateTime": item["createdDateTime"][:19] + "Z",
            "lastModifiedDateTime": item["createdDateTime"][:19] + "Z",
            "subject": "",
            "importance": "normal",
            "from": {
                "emailAddress": {"name": person["displayName"], "address": MAIL[person["id"]]}
            },
            "channelIdentity": {"teamId": TEAM, "channelId": channel} if channel else {},
            "etag": item["id"],
        }
        if chat:
            resource["chatId"] = chat
        summary = "..." + re.sub(r"<[^>]+>", "", item["body"]["content"])
        return {"hitId": f"hit-{item['id']}", "rank": 1, "summary": summary, "resource": resource}


def not_found() -> Reply:
    """Graph's 404 (https://learn.microsoft.com/graph/errors)."""
    return Reply({"error": {"code": "NotFound", "message": "Resource not found."}}, 404)


def throttled(seconds: int = 0) -> Reply:
    """Graph's 429, as https://learn.microsoft.com/graph/throttling ("Sample response") shows it."""
    body = {
        "error": {
            "code": "TooManyRequests",
            "innerError": {
                "code": "429",
                "date": "2020-08-18T12:51:51",
                "message": "Please retry after",
                "request-id": "94fb3b52-452a-4535-a601-69e0a90e3aa2",
                "status": "429",
            },
            "message": "Please retry again later.",
        }
    }
    return Reply(body, 429, {"Retry-After": str(seconds)})


def token_rejected(message: str) -> Reply:
    """Graph's 401 for a token it does not take (https://learn.microsoft.com/graph/errors:
    ``InvalidAuthenticationToken``, "The access token is missing or invalid")."""
    return Reply({"error": {"code": "InvalidAuthenticationToken", "message": message}}, 401)


class FakeGraph(FakePlatform):
    """``FakePlatform`` checked against graph_description.py instead of a stored description."""

    def __init__(self) -> None:
        from graph_description import graph_spec

        self.platform = "teams"
        self.spec = graph_spec()
        self.requests = []
        self.failures = []
        self._scripts = {}

    def rate_limited(self, retry_after: int = 0) -> Reply:
        """Graph's own 429 with ``Retry-After``."""
        return throttled(retry_after)

    def token_rejected(self) -> Reply:
        """Graph's 401 for an expired or revoked token."""
        return token_rejected("Access token has expired or is not yet valid.")
