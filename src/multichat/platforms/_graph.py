"""Microsoft Graph's shapes as the teams preset uses them: ids, timestamps, which messages show.

Ids are Graph paths (``teams/{team}/channels/{channel}``, ``chats/{chat}``, then
``/messages/{id}`` and ``/replies/{id}``); they come from the model, so they are checked
against these shapes before they go into a request.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from multichat.errors import UserError

_GUID = r"[0-9A-Za-z-]+"
_THREAD = r"19:[A-Za-z0-9_.@:=+-]+"
_CONVERSATION = re.compile(rf"teams/{_GUID}/channels/{_THREAD}|chats/{_THREAD}")
_MESSAGE = re.compile(
    rf"(?P<conversation>teams/{_GUID}/channels/{_THREAD}|chats/{_THREAD})"
    r"/messages/(?P<root>\d+)(?:/replies/(?P<reply>\d+))?"
)


@dataclass(frozen=True)
class MessageRef:
    """A message id taken apart: its conversation, root message and (for a reply) reply."""

    conversation: str
    root: str
    reply: str | None = None

    @property
    def path(self) -> str:
        """The message's Graph path."""
        path = f"{self.conversation}/messages/{self.root}"
        return f"{path}/replies/{self.reply}" if self.reply else path

    @property
    def in_chat(self) -> bool:
        """Whether the message is in a chat (no threads) rather than a channel."""
        return self.conversation.startswith("chats/")


def conversation(value: str) -> str:
    """A channel id (``teams/{team}/channels/{channel}`` or ``chats/{chat}``), checked.

    Raises:
        UserError: not one.
    """
    if not _CONVERSATION.fullmatch(value):
        raise UserError(
            f"{value!r} is not a Teams channel id (teams/<team>/channels/19:... or chats/19:...)"
        )
    return value


def message_ref(value: str) -> MessageRef:
    """A message id, taken apart.

    Raises:
        UserError: not one.
    """
    match = _MESSAGE.fullmatch(value)
    if match is None:
        raise UserError(f"{value!r} is not a Teams message id (<channel id>/messages/<number>)")
    return MessageRef(match["conversation"], match["root"], match["reply"])


def when(text: str) -> datetime.datetime:
    """A Graph timestamp (``2021-03-28T20:48:29.832Z``) as an aware datetime."""
    return datetime.datetime.fromisoformat(text)


def is_shown(raw: Mapping[str, Any]) -> bool:
    """A user's message that is still there (not a system event, not soft-deleted)."""
    return raw.get("messageType", "message") == "message" and not raw.get("deletedDateTime")


def sender_of(raw: Mapping[str, Any]) -> Mapping[str, Any]:
    author = raw.get("from") or {}
    return author.get("user") or author.get("application") or {}


def mentions_of(raw: Mapping[str, Any], user_id: str | None) -> bool:
    return any(
        ((mention.get("mentioned") or {}).get("user") or {}).get("id") == user_id
        for mention in raw.get("mentions") or ()
    )
