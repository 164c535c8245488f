"""A small stateful Zulip behind the fake platform, checked against zulip_api.yaml.

No description of Zulip's API is kept in tests/support/specs/ (it is too large), so
zulip_api.yaml transcribes the operations the preset calls from Zulip's documentation pages
(checked against a Zulip 12.0 zerver/openapi/zulip.yaml; its header says how far), and
:class:`ZulipApi` is the shared :class:`FakePlatform` reading that transcription. Requests
and answers are checked against it; behaviour follows the pages each handler cites:

* https://zulip.com/api/get-messages: messages sorted by id; ``anchor`` (an id, ``newest``,
  ``oldest``, ``first_unread``), ``num_before`` / ``num_after``, ``include_anchor``,
  ``found_oldest`` / ``found_newest``; ``apply_markdown=false`` gives the Markdown written,
  otherwise rendered HTML (here a ``<p>`` around it, enough to tell the two apart).
* https://zulip.com/api/construct-narrow and https://zulip.com/help/search-for-messages: the
  ``stream`` (``channel``), ``topic``, ``dm``, ``is:dm``, ``is:mentioned``, ``is:unread`` and
  ``search`` operators; search matches every word.
* https://zulip.com/api/rest-error-handling: errors are ``{"result": "error", "msg", "code"}``;
  an invalid API key answers HTTP 401 ``INVALID_API_KEY``; a rate limit answers 429
  ``RATE_LIMIT_HIT`` with ``retry-after`` (seconds, a float) and the ``Retry-After`` header.
  Statuses, codes and texts as zulip/zulip's zerver/lib/exceptions.py defines them
  (InvalidAPIKeyError, RateLimitedError, ReactionExistsError).
* https://zulip.com/api/add-reaction: a reaction the user already made is refused (HTTP 400,
  ``REACTION_ALREADY_EXISTS``, "Reaction already exists.").
"""

from __future__ import annotations

import base64
import html
import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from support.fake_platform import FakePlatform, RecordedRequest, Reply
from support.platform_specs.openapi import read_openapi
from support.platform_specs.spec import PlatformSpec

EMAIL = "ada@example.com"
API_KEY = "gjA04ZYcqXKalvYMA8OeXSfzUOLrtbZv"  # the shape of https://zulip.com/api/api-keys' keys
#: 2025-10-09T08:53:20Z, in seconds as Zulip counts.
T0 = 1_760_000_000
MINUTE = 60
ADA, GRACE, LINUS, BOT, FORMER = 8, 9, 10, 11, 12
GENERAL, DEV, OPS, HIDDEN = 1, 2, 3, 4
#: Zulip's answer to any error is JSON with `result`, `msg` and (often) `code`.
_ERROR = {"$ref": "#/components/schemas/Error"}
FALLBACK_ANSWERS = {
    "429": {"content": {"application/json": {"schema": _ERROR}}},
    "4XX": {"content": {"application/json": {"schema": _ERROR}}},
}


@cache
def zulip_spec() -> PlatformSpec:
    """zulip_api.yaml as a checkable description (read once per process)."""
    document = yaml.safe_load((Path(__file__).parent / "zulip_api.yaml").read_text())
    return read_openapi("zulip", document, fallback_answers=FALLBACK_ANSWERS)


class ZulipApi(FakePlatform):
    """The shared fake platform, reading Zulip's transcribed description instead of a spec file."""

    def __init__(self) -> None:
        # FakePlatform.__init__ loads a description by platform name from tests/support/specs/;
        # Zulip's is the transcription beside this file, so the same attributes are set here.
        self.platform = "zulip"
        self.spec = zulip_spec()
        self.requests = []
        self.failures = []
        self._scripts = {}

    def rate_limited(self, retry_after: int = 0) -> Reply:
        """Zulip's 429 (rest-error-handling; Zulip writes the seconds as a float)."""
        seconds = float(retry_after)
        body = {
            "result": "error",
            "msg": "API usage exceeded rate limit",
            "code": "RATE_LIMIT_HIT",
            "retry-after": seconds,
        }
        return Reply(body, 429, {"Retry-After": str(seconds)})

    def token_rejected(self) -> Reply:
        """Zulip's answer to a key that was regenerated (rest-error-handling)."""
        body = {"result": "error", "msg": "Invalid API key", "code": "INVALID_API_KEY"}
        return Reply(body, 401)


def _error(status: int, msg: str, code: str = "BAD_REQUEST") -> Reply:
    return Reply({"result": "error", "msg": msg, "code": code}, status)


def _ok(**fields: Any) -> dict[str, Any]:
    return {"result": "success", "msg": "", **fields}


def general_text(number: int) -> str:
    """The text of #general's message ``number`` (1 to 30, topic "town")."""
    return f"general post {number}" + (" about the flamegraph" if number in (7, 21) else "")


@dataclass
class FakeZulip:
    """Ada's Zulip: three subscribed channels with topics, direct messages, mentions, unreads."""

    api: ZulipApi = field(default_factory=ZulipApi)
    users: dict[int, dict[str, Any]] = field(default_factory=dict)
    streams: dict[int, dict[str, Any]] = field(default_factory=dict)
    messages: dict[int, dict[str, Any]] = field(default_factory=dict)
    flags: dict[int, set[str]] = field(default_factory=dict)
    clock: int = T0
    _handlers: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._seed()
        for operation, handler in {
            "get-own-user": self._own_user,
            "get-users": self._users,
            "get-subscriptions": self._subscriptions,
            "get-messages": self._get_messages,
            "get-message": self._get_message,
            "send-message": self._send,
            "update-message": self._update,
            "delete-message": self._delete,
            "add-reaction": self._react,
            "update-message-flags-for-narrow": self._flags_for_narrow,
        }.items():
            self._handlers[operation] = self._authorized(handler)
            self.api.on(operation, self._handlers[operation])

    def answer_first(self, operation: str, *replies: Reply) -> None:
        """Answer ``operation`` with ``replies`` first, then as usual again."""
        self.api.on(operation, *replies, self._handlers[operation])

    # ---- the seed ------------------------------------------------------------------------------

    def _seed(self) -> None:
        for user_id, name, bot, active in (
            (ADA, "Ada Lovelace", False, True),
            (GRACE, "Grace Hopper", False, True),
            (LINUS, "Linus Torvalds", False, True),
            (BOT, "Deploy Bot", True, True),
            (FORMER, "Former Colleague", False, False),
        ):
            email = f"{name.split()[0].lower()}@example.com"
            self.users[user_id] = {
                "user_id": user_id,
                "email": email,
                "delivery_email": email,
                "full_name": name,
                "is_bot": bot,
                "is_active": active,
                "is_admin": False,
                "is_owner": False,
                "is_guest": False,
                "role": 400,
                "bot_type": 1 if bot else None,
                "avatar_url": None,
                "timezone": "",
                "date_joined": "2025-01-01T00:00:00+00:00",
            }
        for stream_id, name, private, description in (
            (GENERAL, "general", False, "Everything"),
            (DEV, "dev", True, "Builds and deploys"),
            (OPS, "ops", False, ""),
            (HIDDEN, "hidden", True, "Ada is not subscribed"),
        ):
            self.streams[stream_id] = {
                "stream_id": stream_id,
                "name": name,
                "description": description,
                "rendered_description": f"<p>{description}</p>" if description else "",
                "invite_only": private,
                "is_web_public": False,
                "is_muted": False,
                "color": "#76ce90",
                "subscriber_count": 3,
                "date_created": T0 - 1000 * MINUTE,
            }
        for n in range(1, 31):
            author = (GRACE, LINUS, ADA)[n % 3]
            self._stream_message(GENERAL, "town", author, general_text(n), at=T0 + n * MINUTE)
        self._stream_message(GENERAL, "release", GRACE, "release plan", at=T0 + 40 * MINUTE)
        for n, author in enumerate((LINUS, GRACE, LINUS), start=1):
            self._stream_message(
                GENERAL, "release", author, f"release reply {n}", at=T0 + (40 + n) * MINUTE
            )
        self._stream_message(
            DEV,
            "deploys",
            GRACE,
            "Deploy done, @**Ada Lovelace** please check the **flamegraph**",
            at=T0 + 50 * MINUTE,
            flags={"read", "mentioned"},
        )
        self._stream_message(
            DEV,
            "deploys",
            LINUS,
            "@**Ada Lovelace** the build is green",
            at=T0 + 51 * MINUTE,
            flags={"mentioned"},
        )
        self._stream_message(
            DEV, "deploys", BOT, "deploy 42 finished", at=T0 + 52 * MINUTE, flags=set()
        )
        self._stream_message(
            OPS,
            "rota",
            LINUS,
            "ops rota: @**Ada Lovelace** on call",
            at=T0 + 53 * MINUTE,
            flags={"read", "mentioned"},
        )
        self._direct_message([ADA, GRACE], GRACE, "lunch?", at=T0 + 54 * MINUTE, flags=set())
        self._direct_message([ADA, GRACE, LINUS], LINUS, "group hello", at=T0 + 55 * MINUTE)
        self.clock = T0 + 100 * MINUTE

    def _store(self, message: dict[str, Any], flags: set[str]) -> dict[str, Any]:
        message_id = max(self.messages, default=100) + 1
        author = self.users[message["sender_id"]]
        message.update(
            id=message_id,
            sender_full_name=author["full_name"],
            sender_email=author["email"],
            sender_realm_str="example",
            avatar_url=None,
            client="website",
            content_type="text/x-markdown",
            is_me_message=False,
            reactions=[],
            submessages=[],
            topic_links=[],
        )
        self.messages[message_id] = message
        self.flags[message_id] = flags
        return message

    def _stream_message(
        self,
        stream_id: int,
        topic: str,
        sender: int,
        content: str,
        *,
        at: int,
        flags: set[str] | None = None,
    ) -> dict[str, Any]:
        message = {
            "type": "stream",
            "stream_id": stream_id,
            "display_recipient": self.streams[stream_id]["name"],
            "subject": topic,
            "recipient_id": 100 + stream_id,
            "sender_id": sender,
            "timestamp": at,
            "content": content,
        }
        return self._store(message, {"read"} if flags is None else flags)

    def _direct_message(
        self,
        people: list[int],
        sender: int,
        content: str,
        *,
        at: int,
        flags: set[str] | None = None,
    ) -> dict[str, Any]:
        recipients = [
            {
                "id": person,
                "email": self.users[person]["email"],
                "full_name": self.users[person]["full_name"],
                "is_mirror_dummy": False,
            }
            for person in sorted(set(people))
        ]
        message = {
            "type": "private",
            "display_recipient": recipients,
            "subject": "",
            "recipient_id": 200 + sum(sorted(set(people))),
            "sender_id": sender,
            "timestamp": at,
            "content": content,
        }
        return self._store(message, {"read"} if flags is None else flags)

    def message_id(self, content: str) -> int:
        """The id of the message with exactly this content."""
        return next(m["id"] for m in self.messages.values() if m["content"] == content)

    # ---- answers -------------------------------------------------------------------------------

    def _authorized(self, handler: Any) -> Any:
        expected = "Basic " + base64.b64encode(f"{EMAIL}:{API_KEY}".encode()).decode()

        def guarded(request: RecordedRequest) -> Any:
            if request.headers.get("authorization") != expected:
                return self.api.token_rejected()
            return handler(request)

        return guarded

    def _shown(self, message: dict[str, Any], markdown: bool, flags: bool) -> dict[str, Any]:
        shown = dict(message)
        if not markdown:
            shown.update(
                content=f"<p>{html.escape(message['content'])}</p>", content_type="text/html"
            )
        if flags:
            shown["flags"] = sorted(self.flags[message["id"]])
        return shown

    def _own_user(self, request: RecordedRequest) -> Any:
        return _ok(**self.users[ADA])

    def _users(self, request: RecordedRequest) -> Any:
        return _ok(members=list(self.users.values()))

    def _subscriptions(self, request: RecordedRequest) -> Any:
        return _ok(subscriptions=[s for s in self.streams.values() if s["stream_id"] != HIDDEN])

    def _people(self, message: dict[str, Any]) -> set[int]:
        return {person["id"] for person in message["display_recipient"]}

    def _matches(self, message: dict[str, Any], term: dict[str, Any]) -> bool:
        operator, operand = term["operator"], term["operand"]
        if operator in ("stream", "channel"):
            stream = message.get("stream_id")
            return stream is not None and operand in (stream, self.streams[stream]["name"])
        if operator == "topic":
            return message["type"] == "stream" and message["subject"] == operand
        if operator == "dm":
            return message["type"] == "private" and self._people(message) == {ADA, *operand}
        if operator == "is":
            flags = self.flags[message["id"]]
            return {
                "dm": message["type"] == "private",
                "mentioned": "mentioned" in flags,
                "unread": "read" not in flags,
            }[operand]
        if operator == "search":
            words = operand.lower().split()
            return all(word in message["content"].lower() for word in words)
        raise AssertionError(f"the fake Zulip does not know the narrow operator {operator!r}")

    def _narrowed(self, narrow_json: str | None) -> list[dict[str, Any]]:
        narrow = json.loads(narrow_json or "[]")
        assert isinstance(narrow, list), narrow
        visible = [m for m in self.messages.values() if m.get("stream_id") != HIDDEN]
        return sorted(
            (m for m in visible if all(self._matches(m, term) for term in narrow)),
            key=lambda m: m["id"],
        )

    def _anchor(self, found: list[dict[str, Any]], anchor: str) -> int:
        if anchor == "newest":
            return found[-1]["id"] if found else 10**9
        if anchor == "oldest":
            return found[0]["id"] if found else 0
        if anchor == "first_unread":
            unread = [m["id"] for m in found if "read" not in self.flags[m["id"]]]
            return unread[0] if unread else (found[-1]["id"] if found else 10**9)
        return int(anchor)

    def _range(self, found: list[dict[str, Any]], arguments: Any) -> dict[str, Any]:
        """The messages an anchor and ``num_before`` / ``num_after`` select, and the flags."""
        anchor = self._anchor(found, str(arguments["anchor"]))
        num_before, num_after = int(arguments["num_before"]), int(arguments["num_after"])
        older = [m for m in found if m["id"] < anchor]
        newer = [m for m in found if m["id"] > anchor]
        at = [m for m in found if m["id"] == anchor]
        before = older[max(0, len(older) - num_before) :] if num_before else []
        after = newer[:num_after]
        included = at if arguments.get("include_anchor", True) else []
        return {
            "anchor": anchor,
            "messages": [*before, *included, *after],
            "found_oldest": len(before) == len(older),
            "found_newest": len(after) == len(newer),
            "found_anchor": bool(at),
        }

    def _get_messages(self, request: RecordedRequest) -> Any:
        arguments = request.arguments
        found = self._narrowed(arguments.get("narrow"))
        chosen = self._range(found, arguments)
        markdown = arguments.get("apply_markdown") is False
        return _ok(
            anchor=chosen["anchor"],
            found_newest=chosen["found_newest"],
            found_oldest=chosen["found_oldest"],
            found_anchor=chosen["found_anchor"],
            history_limited=False,
            messages=[self._shown(m, markdown, flags=True) for m in chosen["messages"]],
        )

    def _get_message(self, request: RecordedRequest) -> Any:
        message = self.messages.get(request.path_params["message_id"])
        if message is None:
            return _error(400, "Invalid message(s)")
        markdown = request.arguments.get("apply_markdown") is False
        return _ok(raw_content=message["content"], message=self._shown(message, markdown, False))

    def _send(self, request: RecordedRequest) -> Any:
        body = request.body
        self.clock += MINUTE
        if body["type"] in ("stream", "channel"):
            stream_id = int(json.loads(body["to"]))
            if "topic" not in body:
                return _error(400, "Missing topic", "REQUEST_VARIABLE_MISSING")
            message = self._stream_message(
                stream_id, body["topic"], ADA, body["content"], at=self.clock, flags={"read"}
            )
        else:
            people = [int(person) for person in json.loads(body["to"])]
            message = self._direct_message([ADA, *people], ADA, body["content"], at=self.clock)
        return _ok(id=message["id"])

    def _update(self, request: RecordedRequest) -> Any:
        message = self.messages.get(request.path_params["message_id"])
        if message is None:
            return _error(400, "Invalid message(s)")
        if message["sender_id"] != ADA:
            return _error(400, "You don't have permission to edit this message")
        self.clock += MINUTE
        message.update(content=request.body["content"], last_edit_timestamp=self.clock)
        return _ok(detached_uploads=[])

    def _delete(self, request: RecordedRequest) -> Any:
        if self.messages.pop(request.path_params["message_id"], None) is None:
            return _error(400, "Invalid message(s)")
        return _ok()

    def _react(self, request: RecordedRequest) -> Any:
        message = self.messages.get(request.path_params["message_id"])
        if message is None:
            return _error(400, "Invalid message(s)")
        name = request.body["emoji_name"]
        if any(r["user_id"] == ADA and r["emoji_name"] == name for r in message["reactions"]):
            return _error(400, "Reaction already exists.", "REACTION_ALREADY_EXISTS")
        code = {"eyes": "1f440", "tada": "1f389"}.get(name, "1f44d")
        message["reactions"].append(
            {
                "emoji_name": name,
                "emoji_code": code,
                "reaction_type": "unicode_emoji",
                "user_id": ADA,
            }
        )
        return _ok()

    def _flags_for_narrow(self, request: RecordedRequest) -> Any:
        body = request.body
        ranged = self._range(self._narrowed(body["narrow"]), body)
        chosen = ranged["messages"]
        updated = 0
        for message in chosen:
            flags = self.flags[message["id"]]
            if body["op"] == "add" and body["flag"] not in flags:
                flags.add(body["flag"])
                updated += 1
            elif body["op"] == "remove" and body["flag"] in flags:
                flags.discard(body["flag"])
                updated += 1
        return _ok(
            processed_count=len(chosen),
            updated_count=updated,
            first_processed_id=chosen[0]["id"] if chosen else None,
            last_processed_id=chosen[-1]["id"] if chosen else None,
            found_oldest=ranged["found_oldest"],
            found_newest=ranged["found_newest"],
        )
