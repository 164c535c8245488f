"""Time in the sandbox: unix seconds (millisecond precision) inside, ISO-8601 UTC outside."""

from __future__ import annotations

import time
from datetime import UTC, datetime


def now() -> float:
    """The current time in unix seconds, rounded to the millisecond like every stored time."""
    return round(time.time(), 3)


def to_iso(seconds: float) -> str:
    """``2025-06-02T09:00:00.000Z`` for unix seconds."""
    moment = datetime.fromtimestamp(seconds, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time(value: str) -> float:
    """Unix seconds from unix seconds or an ISO-8601 time (naive times are UTC).

    Raises:
        ValueError: ``value`` is neither.
    """
    text = value.strip()
    try:
        return float(text)
    except ValueError:
        pass
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()
