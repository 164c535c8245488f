"""How long a message each platform takes, as the platforms document it, and the check.

Platforms measure differently: some count characters (Unicode code points, Python's ``len``),
others bytes of the UTF-8 encoding. Each limit says its unit, and :func:`check_length` measures
in it. A message over the limit is refused before any request, with one line naming the limit.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from multichat.errors import UserError


class Unit(enum.Enum):
    """What a limit counts."""

    CHARACTERS = "characters"
    """Unicode code points (Python's ``len``)."""
    UTF8_BYTES = "bytes"
    """Bytes of the UTF-8 encoding."""

    def measure(self, text: str) -> int:
        """The length of ``text`` in this unit."""
        return len(text) if self is Unit.CHARACTERS else len(text.encode("utf-8"))


@dataclass(frozen=True)
class Limit:
    """The most a platform takes in one message's text, and what it counts."""

    maximum: int
    unit: Unit


# https://api.slack.com/methods/chat.postMessage, "Truncating content": text is truncated
# after 40,000 characters (refused here instead, so nothing is cut silently).
SLACK = Limit(40_000, Unit.CHARACTERS)
# https://discord.com/developers/docs/resources/message#create-message: "content: Message
# contents (up to 2000 characters)". The OpenAPI description (shared/specs/discord/openapi.json,
# MessageCreateRequest.content) allows 4000, which is for Nitro users; bots get 2000.
DISCORD = Limit(2_000, Unit.CHARACTERS)
# Mattermost's default MaxPostSize (client config ``MaxPostSize``, API
# https://api.mattermost.com/#tag/system/operation/GetClientConfig) is 16383 runes
# (server/public/model/post.go PostMessageMaxRunesV2; 4,000 before server 5.0 or without the
# database migration). A server may report less: prefer its ``MaxPostSize`` when known.
MATTERMOST = Limit(16_383, Unit.CHARACTERS)
# https://zulip.com/api/send-message: content is limited to the server's
# ``max_message_length`` (from POST /register), 10,000 characters by default.
ZULIP = Limit(10_000, Unit.CHARACTERS)
# shared/specs/google_chat/chat.v1.json, spaces.messages.create: "The maximum message size,
# including the message contents, is 32,000 bytes." UNCONFIRMED: a 4,096-character limit on
# ``text`` is sometimes quoted; neither that description nor the Message schema says so.
GOOGLE_CHAT = Limit(32_000, Unit.UTF8_BYTES)
# https://learn.microsoft.com/en-us/microsoftteams/limits-specifications-teams, Messaging:
# "28 KB" per message, approximate because it includes @-mentions and reactions. Counted
# here as 28,000 bytes of the UTF-8 HTML body (the stricter reading of "KB"; the page names
# no encoding: UNCONFIRMED).
TEAMS = Limit(28_000, Unit.UTF8_BYTES)
# https://spec.matrix.org/latest/client-server-api/#size-limits: "The complete event MUST
# NOT be larger than 65536 bytes" (as canonical JSON). There is no text limit of its own, so
# measure ``body`` and ``formatted_body`` together; the event's other fields need room too.
MATRIX = Limit(65_536, Unit.UTF8_BYTES)

#: The limit of every preset, by preset name.
LIMITS: Mapping[str, Limit] = MappingProxyType(
    {
        "slack": SLACK,
        "discord": DISCORD,
        "mattermost": MATTERMOST,
        "zulip": ZULIP,
        "google_chat": GOOGLE_CHAT,
        "teams": TEAMS,
        "matrix": MATRIX,
    }
)


class MessageTooLong(UserError, ValueError):
    """A message longer than its platform takes; the message says the limit."""

    def __init__(self, platform: str, limit: Limit, length: int) -> None:
        """Keep the numbers apart for callers; the text is the one line people read."""
        self.platform = platform
        self.limit = limit
        self.length = length
        unit = limit.unit.value
        super().__init__(
            f"{platform} takes at most {limit.maximum:,} {unit} per message; "
            f"this one has {length:,} {unit}"
        )


def check_length(text: str, limit: Limit, platform: str) -> None:
    """Raise :class:`MessageTooLong` if ``text`` is longer than ``limit`` allows.

    Example: ``check_length(text, SLACK, "Slack")``; the error reads
    ``Slack takes at most 40,000 characters per message; this one has 40,001 characters``.
    """
    length = limit.unit.measure(text)
    if length > limit.maximum:
        raise MessageTooLong(platform, limit, length)
