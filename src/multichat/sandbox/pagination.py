"""Opaque cursors for the API's lists: base64url JSON naming the list and where the page ended."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from multichat.sandbox.errors import ApiError

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
# Positions end up as SQL parameters: an int must fit SQLite's INTEGER, a str must be UTF-8.
_MAX_POSITION = 2**63 - 1


def encode_cursor(kind: str, position: int | str) -> str:
    """A cursor for list ``kind`` that resumes after ``position``."""
    raw = json.dumps({"k": kind, "p": position}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _usable_position(position: object) -> bool:
    if isinstance(position, bool):
        return False
    if isinstance(position, int):
        return 0 <= position <= _MAX_POSITION
    if isinstance(position, str):
        try:
            position.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate, sent as a JSON escape
            return False
        return True
    return False


def decode_cursor(kind: str, cursor: str | None) -> Any:
    """The position stored in ``cursor``, or ``None`` for the first page.

    Raises:
        ApiError: the cursor is malformed, out of range or belongs to another list (400
            invalid_request).
    """
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(data, dict) or data.get("k") != kind:
            raise ValueError(kind)
        position = data["p"]
        if not _usable_position(position):
            raise ValueError(kind)
    # RecursionError: a cursor of deeply nested JSON arrays is not a cursor either.
    except (ValueError, KeyError, binascii.Error, UnicodeDecodeError, RecursionError) as exc:
        raise ApiError(
            400, "invalid_request", f"cursor is not a cursor of this {kind} list"
        ) from exc
    return position


def make_page(
    kind: str, rows: Sequence[T], limit: int, position: Callable[[T], int | str]
) -> tuple[list[T], str | None]:
    """Split ``limit + 1`` fetched rows into this page and the cursor of the next (or None)."""
    items = list(rows[:limit])
    if len(rows) > limit and items:
        return items, encode_cursor(kind, position(items[-1]))
    return items, None
