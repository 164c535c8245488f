"""Matrix events as the chat tools show them, and the ids, emoji and caches that needs.

Event shapes are the client-server API's (https://spec.matrix.org/latest/client-server-api/):
``m.room.message`` bodies with ``format: org.matrix.custom.html`` (#mroommessage-msgtypes),
threads (#threading), edits bundled in ``unsigned.m.relations.m.replace``
(#event-replacements), reactions (#event-annotations-and-reactions), rich-reply fallbacks
(#fallbacks-for-rich-replies) and ``m.room.encrypted`` (#mroomencrypted), whose text this
provider cannot read.

Ids: a channel is a room id (``!abc:example.org``); a message id is the room id and the event
id joined by ``/`` (``!abc:example.org/$xyz``), since Matrix addresses an event within its room.
"""

from __future__ import annotations

import datetime
import html
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from multichat.chat.markup.html import from_html, to_html
from multichat.errors import UserError

#: The API's path prefixes under the homeserver's base URL.
V3 = "_matrix/client/v3"
V1 = "_matrix/client/v1"
HTML_FORMAT = "org.matrix.custom.html"
ENCRYPTED_TEXT = "(encrypted, not readable by this provider)"
#: Event types that are messages; everything else in a timeline is skipped.
MESSAGE_TYPES = ("m.room.message", "m.room.encrypted")
_MEDIA = {
    "m.image": "image",
    "m.file": "file",
    "m.audio": "audio",
    "m.video": "video",
    "m.location": "location",
}
#: A user id inside Markdown: ``@localpart:server`` (server with an optional port).
#: https://spec.matrix.org/latest/appendices/#user-identifiers
USER_ID_IN_TEXT = re.compile(r"(?<![\w@/])@[a-z0-9._=\-/+]+:[A-Za-z0-9.\-]+(?::[0-9]{1,5})?")

# ---- ids -------------------------------------------------------------------------------------


def room_id(channel_id: str) -> str:
    """``channel_id`` checked to be a room id.

    Raises:
        UserError: it is not one.
    """
    if not channel_id.startswith("!") or len(channel_id) > 255 or _blank_or_slash(channel_id):
        raise UserError(
            f"{channel_id[:80]!r} is not a Matrix room id (they look like !abc:example.org); "
            "list_channels gives them"
        )
    return channel_id


def to_message_id(room: str, event_id: str) -> str:
    """The tools' id of event ``event_id`` in ``room``."""
    return f"{room}/{event_id}"


def split_message_id(value: str) -> tuple[str, str]:
    """``(room id, event id)`` of a message id made by :func:`to_message_id`.

    Raises:
        UserError: ``value`` is not such an id.
    """
    room, _, event = value.partition("/")
    if not room.startswith("!") or not event.startswith("$") or _blank_or_slash(room + event):
        raise UserError(
            f"{value[:120]!r} is not a Matrix message id (they look like "
            "!room:example.org/$event); use an id that another tool returned"
        )
    return room, event


def _blank_or_slash(text: str) -> bool:
    return any(char.isspace() or char == "/" for char in text)


def segment(identifier: str) -> str:
    """An id as one URL path segment (``!a:b`` -> ``%21a%3Ab``)."""
    return quote(identifier, safe="")


def localpart(user_id: str) -> str:
    """The part of ``@alice:example.org`` between ``@`` and the first colon."""
    return user_id.removeprefix("@").partition(":")[0] or user_id


def server_name(user_id: str) -> str:
    """The server part of ``@alice:example.org`` (everything after the first colon)."""
    return user_id.partition(":")[2]


# ---- reading events --------------------------------------------------------------------------


def relation(event: Mapping[str, Any]) -> Mapping[str, Any]:
    """The event's ``m.relates_to`` (in clear text even in encrypted events), or ``{}``."""
    content = event.get("content")
    related = content.get("m.relates_to") if isinstance(content, Mapping) else None
    return related if isinstance(related, Mapping) else {}


def thread_root(event: Mapping[str, Any]) -> str | None:
    """The event id of the thread this event replies in, if any."""
    related = relation(event)
    if related.get("rel_type") == "m.thread" and isinstance(related.get("event_id"), str):
        return str(related["event_id"])
    return None


def is_message(event: Mapping[str, Any]) -> bool:
    """A message a person sent: not an edit, a reaction, state, or a deleted (redacted) one."""
    if event.get("type") not in MESSAGE_TYPES or "state_key" in event:
        return False
    if relation(event).get("rel_type") == "m.replace":
        return False
    return bool(event.get("content"))


def bundled(event: Mapping[str, Any], relation_type: str) -> Mapping[str, Any]:
    """What the server bundled for ``relation_type`` (``m.thread``, ``m.replace``) or ``{}``."""
    unsigned = event.get("unsigned")
    relations = unsigned.get("m.relations") if isinstance(unsigned, Mapping) else None
    found = relations.get(relation_type) if isinstance(relations, Mapping) else None
    return found if isinstance(found, Mapping) else {}


def current_content(event: Mapping[str, Any]) -> tuple[Mapping[str, Any], bool]:
    """The event's content after its latest edit by the same sender, and whether it was edited."""
    content = event.get("content")
    original: Mapping[str, Any] = content if isinstance(content, Mapping) else {}
    edit = bundled(event, "m.replace")
    if not edit:
        return original, False
    new_content = edit.get("content", {}).get("m.new_content")
    same_sender = edit.get("sender") in (None, event.get("sender"))
    if isinstance(new_content, Mapping) and same_sender:
        return new_content, True
    return original, bool(same_sender)


def message_text(event: Mapping[str, Any]) -> str:
    """The Markdown of a message event: its HTML when it has some, never empty."""
    if event.get("type") == "m.room.encrypted":
        return ENCRYPTED_TEXT
    content, _ = current_content(event)
    body = content.get("body")
    text = body if isinstance(body, str) else ""
    formatted = content.get("formatted_body")
    if content.get("format") == HTML_FORMAT and isinstance(formatted, str) and formatted:
        text = from_html(formatted)
    elif "m.in_reply_to" in relation(event):
        text = strip_reply_fallback(text)
    kind = content.get("msgtype")
    if kind in _MEDIA:
        text = f"[{_MEDIA[str(kind)]}: {text}]"
    elif kind == "m.emote":
        text = f"* {text}"
    return text if text.strip() else "(empty message)"


def strip_reply_fallback(body: str) -> str:
    """A plain body without the ``> <@sender> quoted`` lines a rich reply may start with."""
    lines = body.split("\n")
    if not lines or not lines[0].startswith("> "):
        return body
    index = 0
    while index < len(lines) and lines[index].startswith(">"):
        index += 1
    return "\n".join(lines[index:]).lstrip("\n")


def sent_at(event: Mapping[str, Any]) -> str:
    """The event's ``origin_server_ts`` (milliseconds) as ISO-8601 UTC."""
    stamp = int(event.get("origin_server_ts", 0)) / 1000
    when = datetime.datetime.fromtimestamp(stamp, datetime.UTC)
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def mentions_user(event: Mapping[str, Any], user_id: str, display_name: str) -> bool:
    """Whether the event mentions ``user_id``: ``m.mentions``, a pill, or (legacy) the name."""
    content, _ = current_content(event)
    mentions = content.get("m.mentions")
    if isinstance(mentions, Mapping):
        return user_id in (mentions.get("user_ids") or [])
    formatted = content.get("formatted_body")
    if isinstance(formatted, str) and f"https://matrix.to/#/{user_id}" in formatted:
        return True
    body = content.get("body")
    return isinstance(body, str) and bool(display_name) and display_name in body


# ---- writing ---------------------------------------------------------------------------------


def message_content(markdown: str) -> dict[str, Any]:
    """An ``m.text`` content for Markdown: ``body`` as written, HTML when there is formatting.

    Full user ids in the text (``@bob:example.org``) are listed in ``m.mentions``, which is
    what notifies them (https://spec.matrix.org/latest/client-server-api/#user-and-room-mentions).
    """
    content: dict[str, Any] = {"msgtype": "m.text", "body": markdown}
    rendered = to_html(markdown)
    plain = "<p>" + html.escape(markdown, quote=False).replace("\n", "<br />\n") + "</p>"
    if rendered != plain:
        content.update(format=HTML_FORMAT, formatted_body=rendered)
    users = sorted(set(USER_ID_IN_TEXT.findall(markdown)))
    content["m.mentions"] = {"user_ids": users} if users else {}
    return content
