"""A small Google Chat for the preset's tests: spaces, members, threads, read states, search.

Its handlers answer the operations of ``tests/support/specs/google_chat/chat.v1.json`` through
``FakePlatform``, which checks every request and every answer against that discovery document
(paths, methods, parameters; answers against the ``Message``, ``Space``, ``Membership``...
schemas). Shapes follow those schemas; values are made up. Resource names follow the formats
the schemas give (``spaces/{space}/messages/{message}``, ``users/{user}``). The filters the
handlers understand are the ones chat.v1.json documents for ``spaces.messages.list``
(``create_time``, ``thread.name``) and ``spaces.messages.search`` (keywords, ``space.name``,
``annotations.user_mentions.user.name``): anything else fails the test.

``userinfo`` is Google's OpenID Connect userinfo answer
(https://developers.google.com/identity/openid-connect/openid-connect#obtainuserinfo: ``sub``,
``name``, ``email``...), served beside the fake because the Chat API has no "me".
"""

from __future__ import annotations

import copy
import datetime
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from support.fake_platform import FakePlatform, RecordedRequest, Reply

from multichat.sandbox.server import SandboxServer

BASE = datetime.datetime(2026, 11, 30, 9, 0, tzinfo=datetime.UTC)
USERINFO_PATH = "/oidc/userinfo"


def at(minutes: int) -> str:
    """A Chat timestamp ``minutes`` after the world's start (nanoseconds, as Chat writes)."""
    return (BASE + datetime.timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%S.000000000Z")


ME = {"name": "users/111", "displayName": "Ada Lovelace", "type": "HUMAN"}
GRACE = {"name": "users/222", "displayName": "Grace Hopper", "type": "HUMAN"}
ALAN = {"name": "users/333", "displayName": "Alan Turing", "type": "HUMAN"}
BOT = {"name": "users/444", "displayName": "Deploy Bot", "type": "BOT"}
PEOPLE = {person["name"]: person for person in (ME, GRACE, ALAN, BOT)}
USERINFO = {
    "sub": "111",
    "name": "Ada Lovelace",
    "given_name": "Ada",
    "family_name": "Lovelace",
    "email": "ada@example.com",
    "email_verified": True,
}

ENG, LEADS, DM, GROUP = "spaces/AAAAeng", "spaces/AAAAleads", "spaces/AAAAdm", "spaces/AAAAgrp"


def _space(name: str, kind: str, display: str, active: int) -> dict[str, Any]:
    return {"name": name, "spaceType": kind, "displayName": display, "lastActiveTime": at(active)}


def spaces() -> list[dict[str, Any]]:
    """The user's spaces, as ``spaces.list`` answers them (Space schema)."""
    eng = _space(ENG, "SPACE", "Engineering", 40)
    eng["accessSettings"] = {"accessState": "DISCOVERABLE"}
    eng["spaceDetails"] = {"description": "Build and deploy"}
    eng["membershipCount"] = {"joinedDirectHumanUserCount": 3}
    leads = _space(LEADS, "SPACE", "Leads", 10)
    leads["accessSettings"] = {"accessState": "PRIVATE"}
    dm = _space(DM, "DIRECT_MESSAGE", "", 30)
    dm.pop("displayName")
    group = _space(GROUP, "GROUP_CHAT", "", 20)
    return [eng, leads, dm, group]


MEMBERS = {
    ENG: [ME, GRACE, ALAN, BOT],
    LEADS: [ME, GRACE],
    DM: [ME, GRACE],
    GROUP: [ME, GRACE, ALAN],
}


def _message(
    space: str,
    key: str,
    sender: dict[str, Any],
    minutes: int,
    text: str,
    *,
    thread: str | None = None,
    reply: bool = False,
    named: bool = True,
) -> dict[str, Any]:
    author = dict(sender) if named else {"name": sender["name"], "type": sender["type"]}
    return {
        "name": f"{space}/messages/{key}.{key}",
        "sender": author,
        "createTime": at(minutes),
        "text": re.sub(r"[*_~]", "", text),
        "formattedText": text,
        "thread": {"name": f"{space}/threads/{thread or key}"},
        "space": {"name": space},
        "threadReply": reply,
    }


def messages() -> list[dict[str, Any]]:
    """Every message, oldest first: a thread, a mention, bulk for paging, DMs."""
    mention = _message(
        ENG,
        "m4",
        GRACE,
        5,
        "<users/111> can you check the _flamegraph_? <https://grafana.example/d/1|dashboard>",
    )
    mention["annotations"] = [
        {
            "type": "USER_MENTION",
            "startIndex": 0,
            "length": 5,
            "userMention": {"user": ME, "type": "MENTION"},
        }
    ]
    mention["emojiReactionSummaries"] = [{"emoji": {"unicode": "👀"}, "reactionCount": 2}]
    found = [
        _message(ENG, "m1", ALAN, 1, "Deploy *window* opens at 10"),
        _message(ENG, "m2", GRACE, 2, "ok", thread="m1", reply=True),
        _message(ENG, "m3", ME, 3, "I will watch the graphs", thread="m1", reply=True),
        mention,
        _message(ENG, "m5", ALAN, 7, "Postmortem draft is ready", named=False),
    ]
    found += [
        _message(ENG, f"b{n}", GRACE if n % 2 else ALAN, 10 + n, f"Build {n} is green")
        for n in range(1, 8)
    ]
    found += [
        _message(LEADS, "l1", GRACE, 8, "Budget review on Friday"),
        _message(LEADS, "l2", ME, 9, "Noted"),
        _message(DM, "d1", GRACE, 30, "Lunch at *noon*?"),
        _message(GROUP, "g1", ALAN, 20, "Who has the flamegraph tool?"),
    ]
    return found


READ_STATES = {ENG: at(4), LEADS: at(100), DM: at(0), GROUP: at(25)}


class GoogleChatWorld:
    """The world's state and its operation handlers (install them on a ``FakePlatform``)."""

    def __init__(self) -> None:
        self.spaces = spaces()
        self.messages = messages()
        self.read_states = dict(READ_STATES)
        self.created = 0

    def install(self, fake: FakePlatform) -> None:
        """Answer every operation the preset calls."""
        handlers = {
            "chat.spaces.list": self.list_spaces,
            "chat.spaces.get": self.get_space,
            "chat.spaces.members.list": self.list_members,
            "chat.spaces.members.get": self.get_member,
            "chat.spaces.messages.list": self.list_messages,
            "chat.spaces.messages.get": self.get_message,
            "chat.spaces.messages.create": self.create_message,
            "chat.spaces.messages.patch": self.patch_message,
            "chat.spaces.messages.delete": self.delete_message,
            "chat.spaces.messages.search": self.search,
            "chat.spaces.messages.reactions.create": self.react,
            "chat.users.spaces.getSpaceReadState": self.get_read_state,
            "chat.users.spaces.updateSpaceReadState": self.update_read_state,
        }
        for operation, handler in handlers.items():
            fake.on(operation, handler)

    # ---- paging ------------------------------------------------------------------------

    @staticmethod
    def page(items: list[Any], request: RecordedRequest, key: str, size: int) -> dict[str, Any]:
        arguments = {**request.arguments, **(request.body or {})}
        size = int(arguments.get("pageSize") or size)
        start = int(arguments.get("pageToken") or 0)
        answer: dict[str, Any] = {key: copy.deepcopy(items[start : start + size])}
        if start + size < len(items):
            answer["nextPageToken"] = str(start + size)
        return answer

    # ---- spaces and members ------------------------------------------------------------

    def list_spaces(self, request: RecordedRequest) -> dict[str, Any]:
        wanted = re.findall(r'spaceType = "(\w+)"', request.arguments.get("filter", ""))
        found = [space for space in self.spaces if not wanted or space["spaceType"] in wanted]
        return self.page(found, request, "spaces", 100)

    def get_space(self, request: RecordedRequest) -> Any:
        name = request.path_params["name"]
        return next((s for s in self.spaces if s["name"] == name), None) or not_found(name)

    def _membership(self, space: str, user: dict[str, Any]) -> dict[str, Any]:
        return {
            "name": f"{space}/members/{user['name'].removeprefix('users/')}",
            "state": "JOINED",
            "role": "ROLE_MEMBER",
            "member": dict(user),
        }

    def list_members(self, request: RecordedRequest) -> dict[str, Any]:
        space = request.path_params["parent"]
        found = [self._membership(space, user) for user in MEMBERS.get(space, [])]
        return self.page(found, request, "memberships", 100)

    def get_member(self, request: RecordedRequest) -> Any:
        space, _, member = request.path_params["name"].partition("/members/")
        user = PEOPLE.get(f"users/{member}")
        if user is None or user not in MEMBERS.get(space, []):
            return not_found(request.path_params["name"])
        return self._membership(space, user)

    # ---- messages ----------------------------------------------------------------------

    def _find(self, name: str) -> dict[str, Any] | None:
        return next((m for m in self.messages if m["name"] == name), None)

    def list_messages(self, request: RecordedRequest) -> dict[str, Any]:
        space = request.path_params["parent"]
        found = [m for m in self.messages if m["space"]["name"] == space]
        for condition in filter(None, request.arguments.get("filter", "").split(" AND ")):
            found = [m for m in found if list_filter(condition)(m)]
        order = request.arguments.get("orderBy")
        if order not in (None, "createTime desc"):
            raise AssertionError(f"unexpected orderBy {order!r}")
        found.sort(key=lambda m: m["createTime"], reverse=order is not None)
        return self.page(found, request, "messages", 25)

    def get_message(self, request: RecordedRequest) -> Any:
        name = request.path_params["name"]
        return copy.deepcopy(self._find(name)) or not_found(name)

    def create_message(self, request: RecordedRequest) -> dict[str, Any]:
        space = request.path_params["parent"]
        self.created += 1
        key = f"new{self.created}"
        thread = (request.body.get("thread") or {}).get("name")
        replying = thread is not None and request.arguments.get("messageReplyOption") is not None
        created = _message(
            space,
            key,
            ME,
            60 + self.created,
            request.body["text"],
            thread=thread.rsplit("/", 1)[1] if replying and thread else None,
            reply=replying,
            named=False,
        )
        self.messages.append(created)
        return copy.deepcopy(created)

    def patch_message(self, request: RecordedRequest) -> Any:
        found = self._find(request.path_params["name"])
        if found is None:
            return not_found(request.path_params["name"])
        assert request.arguments["updateMask"] == "text"
        found["text"] = found["formattedText"] = request.body["text"]
        found["lastUpdateTime"] = at(90)
        return copy.deepcopy(found)

    def delete_message(self, request: RecordedRequest) -> Any:
        found = self._find(request.path_params["name"])
        if found is None:
            return not_found(request.path_params["name"])
        self.messages.remove(found)
        return {}

    def react(self, request: RecordedRequest) -> Any:
        found = self._find(request.path_params["parent"])
        if found is None:
            return not_found(request.path_params["parent"])
        unicode = request.body["emoji"]["unicode"]
        summaries = found.setdefault("emojiReactionSummaries", [])
        summary = next((s for s in summaries if s["emoji"].get("unicode") == unicode), None)
        if summary is None:
            summaries.append({"emoji": {"unicode": unicode}, "reactionCount": 1})
        else:
            summary["reactionCount"] += 1
        return {
            "name": f"{found['name']}/reactions/r1",
            "emoji": {"unicode": unicode},
            "user": {"name": ME["name"], "type": "HUMAN"},
        }

    def search(self, request: RecordedRequest) -> dict[str, Any]:
        assert request.path_params["parent"] == "spaces/-"
        found = list(self.messages)
        for condition in search_conditions(request.body["filter"]):
            found = [m for m in found if condition(m)]
        found.sort(key=lambda m: m["createTime"], reverse=True)
        page = self.page(found, request, "results", 25)
        page["results"] = [{"message": m} for m in page["results"]]
        return page

    # ---- read state --------------------------------------------------------------------

    def get_read_state(self, request: RecordedRequest) -> dict[str, Any]:
        name = request.path_params["name"]
        space = "/".join(name.split("/")[2:4])
        return {"name": name, "lastReadTime": self.read_states[space]}

    def update_read_state(self, request: RecordedRequest) -> dict[str, Any]:
        name = request.path_params["name"]
        assert request.arguments["updateMask"] == "last_read_time"
        space = "/".join(name.split("/")[2:4])
        self.read_states[space] = request.body["lastReadTime"]
        return {"name": name, "lastReadTime": self.read_states[space]}


def not_found(name: str) -> Reply:
    """Google's 404 (https://cloud.google.com/apis/design/errors#http_mapping)."""
    body = {"error": {"code": 404, "message": f"{name} not found", "status": "NOT_FOUND"}}
    return Reply(body, 404)


def _time(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text)


def list_filter(condition: str) -> Any:
    """One condition of a ``spaces.messages.list`` filter, as chat.v1.json documents them."""
    match = re.fullmatch(r'create_time ([<>]) "([^"]+)"', condition.strip())
    if match:
        bound = _time(match[2])
        if match[1] == ">":
            return lambda m: _time(m["createTime"]) > bound
        return lambda m: _time(m["createTime"]) < bound
    match = re.fullmatch(r"thread\.name = (spaces/[^/ ]+/threads/[^/ ]+)", condition.strip())
    if match:
        thread = match[1]
        return lambda m: m["thread"]["name"] == thread
    raise AssertionError(f"not a filter spaces.messages.list documents: {condition!r}")


def search_conditions(where: str) -> list[Any]:
    """The conditions of a ``spaces.messages.search`` filter (keywords are quoted words)."""
    conditions = []
    rest = where
    match = re.search(r' AND space\.name = "(spaces/[^"]+)"$', rest)
    if match:
        space = match[1]
        conditions.append(lambda m: m["space"]["name"] == space)
        rest = rest[: match.start()]
    if rest == "annotations.user_mentions.user.name:users/me":
        conditions.append(
            lambda m: any(
                a.get("userMention", {}).get("user", {}).get("name") == ME["name"]
                for a in m.get("annotations", [])
            )
        )
        return conditions
    words = re.findall(r'"([^"]*)"', rest)
    if not words or re.sub(r'"[^"]*"', "", rest).strip():
        raise AssertionError(f"unexpected search filter {where!r}")
    for word in words:
        conditions.append(lambda m, word=word: word.lower() in m["text"].lower())
    return conditions


@contextmanager
def serve(fake: FakePlatform) -> Iterator[str]:
    """The fake on 127.0.0.1 with the userinfo endpoint beside it; yields its root URL."""
    outer = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    @outer.get(USERINFO_PATH)
    async def userinfo(request: Request) -> JSONResponse:
        if not request.headers.get("authorization", "").startswith("Bearer "):
            return JSONResponse({"error": "invalid_request"}, status_code=401)
        return JSONResponse(USERINFO)

    outer.mount("/", fake.asgi_app())
    with SandboxServer(app=outer) as server:
        yield server.url
