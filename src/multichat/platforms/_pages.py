"""Paging shapes the shared tools need from platforms that page differently.

:func:`newest_first` walks a history backwards in batches (Mattermost's ``before`` a post,
Zulip's anchor) and keeps what falls strictly inside a time window, so a window works on
platforms that cannot filter by time themselves. :func:`numbered_window` reads ``limit`` items
from an offset over numbered pages (``page`` + ``per_page``), so the cursor stays right when
the model changes ``limit`` between calls. Offsets travel as cursors through
:func:`offset_cursor` and :func:`read_offset`.
"""

from __future__ import annotations

import datetime
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from multichat.errors import UserError

T = TypeVar("T")

#: Requests one history call may make to fill its page (a window far back, many replies).
MAX_REQUESTS = 10


@dataclass(frozen=True)
class Batch(Generic[T]):
    """Items newest first, and whether nothing older remains."""

    items: list[T]
    exhausted: bool


async def newest_first(
    fetch: Callable[[str | None], Awaitable[Batch[T]]],
    *,
    limit: int,
    cursor: str | None,
    key: Callable[[T], str],
    sent: Callable[[T], datetime.datetime],
    keep: Callable[[T], bool] = lambda _: True,
    oldest: datetime.datetime | None = None,
    latest: datetime.datetime | None = None,
    max_requests: int = MAX_REQUESTS,
) -> tuple[list[T], str | None]:
    """Up to ``limit`` kept items sent strictly between ``oldest`` and ``latest``, newest first.

    ``fetch(before)`` gives the batch older than the item keyed ``before`` (the newest when
    None). Returns the items and the cursor of the next page: the key of the last item looked
    at, or None once nothing older can match.
    """
    found: list[T] = []
    before = cursor
    for _ in range(max_requests):
        batch = await fetch(before)
        for index, item in enumerate(batch.items):
            before = key(item)
            when = sent(item)
            if oldest is not None and when <= oldest:
                return found, None
            if (latest is not None and when >= latest) or not keep(item):
                continue
            found.append(item)
            if len(found) == limit:
                last = index == len(batch.items) - 1
                return found, None if last and batch.exhausted else before
        if batch.exhausted or not batch.items:
            return found, None
    return found, before


async def numbered_window(
    fetch_page: Callable[[int, int], Awaitable[list[T]]], offset: int, limit: int
) -> tuple[list[T], bool]:
    """``limit`` items from ``offset`` over pages ``fetch_page(page, per_page)``; more after?

    Pages are ``limit`` long, so an offset that is not a multiple of it reads two pages.
    """
    page, skip = divmod(offset, limit)
    items = await fetch_page(page, limit)
    more = len(items) == limit
    window = items[skip:]
    if skip and more:
        following = await fetch_page(page + 1, limit)
        window += following[:skip]
        more = len(following) > skip
    return window, more


def offset_cursor(offset: int, more: bool) -> str | None:
    """The cursor of the page at ``offset``, or None when nothing follows."""
    return str(offset) if more else None


def read_offset(cursor: str | None) -> int:
    """The offset an offset cursor holds (0 for the first page).

    Raises:
        UserError: the cursor is not one this tool gave.
    """
    if cursor is None or cursor == "":
        return 0
    if not cursor.isdigit():
        raise UserError(f"{cursor!r} is not a cursor this tool gave: pass next_cursor as it is")
    return int(cursor)
