"""Discord's ids as the tools show them: snowflakes, times, message ids and cursors.

A snowflake holds its creation time: milliseconds since the Discord epoch (the first second of
2015, 1420070400000 ms after the Unix epoch) in its top 42 bits, so a time becomes a snowflake
as ``(unix_ms - 1420070400000) << 22`` (https://discord.com/developers/docs/reference,
"Snowflakes" and "Snowflake IDs in Pagination"). Discord addresses a message through its
channel, so a message id here is ``CHANNEL:MESSAGE``.
"""

from __future__ import annotations

import datetime
import re

from multichat.errors import UserError

#: reference#snowflakes: "the first second of 2015 or 1420070400000".
DISCORD_EPOCH_MS = 1_420_070_400_000
_TIME_SHIFT = 22
#: A snowflake is a 64-bit integer written as a decimal string (reference#id-serialization).
_SNOWFLAKE = re.compile(r"[0-9]{1,20}")
_MESSAGE_ID = re.compile(r"([0-9]{1,20}):([0-9]{1,20})")
_MEMBER_CURSOR = re.compile(r"([0-9]{1,20}):([0-9]{1,20})")
_GUILD_CURSOR = re.compile(r"[0-9]{1,20}:[0-9]{1,6}(?:,[0-9]{1,20}:[0-9]{1,6})*")


def snowflake(value: str, what: str) -> str:
    """``value`` if it is a Discord id, else a one-line :class:`UserError` naming ``what``."""
    text = value.strip()
    if not _SNOWFLAKE.fullmatch(text):
        raise UserError(f"{value[:40]!r} is not a Discord {what} (a number such as 1234567890)")
    return text


def snowflake_at(when: datetime.datetime) -> str:
    """The smallest snowflake of the millisecond ``when`` (0 before the Discord epoch)."""
    milliseconds = int(when.timestamp() * 1000)
    return str(max(0, milliseconds - DISCORD_EPOCH_MS) << _TIME_SHIFT)


def time_of(value: str) -> datetime.datetime:
    """When the snowflake ``value`` was made, as an aware UTC datetime."""
    milliseconds = (int(value) >> _TIME_SHIFT) + DISCORD_EPOCH_MS
    return datetime.datetime.fromtimestamp(milliseconds / 1000, datetime.UTC)


def message_id(channel_id: str, message: str) -> str:
    """The tools' id of message ``message`` in channel ``channel_id``."""
    return f"{channel_id}:{message}"


def split_message_id(value: str) -> tuple[str, str]:
    """``(channel_id, message_id)`` from a tool's message id.

    Raises:
        UserError: not ``CHANNEL:MESSAGE``.
    """
    match = _MESSAGE_ID.fullmatch(value.strip())
    if match is None:
        raise UserError(
            f"{value[:60]!r} is not a Discord message id: use an id as the tools return it "
            "(CHANNEL:MESSAGE, e.g. 290926798999357250:334385199974967042)"
        )
    return match[1], match[2]


def newer(left: str, right: str | None) -> bool:
    """Whether snowflake ``left`` was made after ``right`` (anything is newer than None)."""
    return right is None or int(left) > int(right)


def read_member_cursor(cursor: str) -> tuple[str, str]:
    """``(guild_id, after_user_id)`` from a list_users cursor (``GUILD:USER``)."""
    match = _MEMBER_CURSOR.fullmatch(cursor.strip())
    if match is None:
        raise UserError(f"{cursor[:60]!r} is not a cursor this tool returned")
    return match[1], match[2]


def read_guild_cursor(cursor: str) -> list[tuple[str, int]]:
    """``[(guild_id, offset), ...]`` from a search cursor (``GUILD:OFFSET,...``)."""
    if not _GUILD_CURSOR.fullmatch(cursor.strip()):
        raise UserError(f"{cursor[:60]!r} is not a cursor this tool returned")
    pairs = (part.split(":") for part in cursor.strip().split(","))
    return [(guild, int(offset)) for guild, offset in pairs]


def write_guild_cursor(pairs: list[tuple[str, int]]) -> str | None:
    """The cursor for ``pairs`` (None when there is nothing left to read)."""
    return ",".join(f"{guild}:{offset}" for guild, offset in pairs) or None
