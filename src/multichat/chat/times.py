"""Times as the chat tools take and show them: ISO-8601 or Unix seconds in, ISO-8601 ``Z`` out.

Kept apart from the adapter so that code reading tool results (the inbox) parses times without
importing the HTTP client.
"""

from __future__ import annotations

import datetime
import re

from multichat.errors import UserError

_AGE = re.compile(r"^(\d+(?:\.\d+)?)\s*([mhdw])$")
_AGE_UNITS = {"m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}


def parse_time(value: str | None) -> datetime.datetime | None:
    """A tool's time argument (ISO-8601, or Unix seconds) as an aware UTC datetime.

    Raises:
        UserError: the value is neither.
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        when = datetime.datetime.fromtimestamp(float(text), datetime.UTC)
    except ValueError:
        try:
            when = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise UserError(
                f"{value!r} is not a time: give ISO-8601 (2025-06-05T09:00:00Z) or Unix seconds"
            ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.UTC)
    return when.astimezone(datetime.UTC)


def iso(when: datetime.datetime) -> str:
    """An aware datetime as ISO-8601 in UTC with a ``Z`` (how every tool shows times)."""
    return when.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")


def parse_since(
    value: str | None, now: datetime.datetime | None = None
) -> datetime.datetime | None:
    """A time argument that may also be an age before ``now``: ``90m``, ``24h``, ``7d``, ``2w``.

    Raises:
        UserError: the value is neither an age, ISO-8601 nor Unix seconds.
    """
    if value is None or not value.strip():
        return None
    age = _AGE.fullmatch(value.strip().lower())
    if age is None:
        try:
            return parse_time(value)
        except UserError:
            raise UserError(
                f"{value!r} is not a time: give an age (24h, 7d), ISO-8601 "
                "(2025-06-05T09:00:00Z) or Unix seconds"
            ) from None
    seconds = float(age.group(1)) * _AGE_UNITS[age.group(2)]
    return (now or datetime.datetime.now(datetime.UTC)) - datetime.timedelta(seconds=seconds)
