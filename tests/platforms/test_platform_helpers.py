"""The adapters' shared helpers: the bounded name cache, the emoji table and the paging shapes."""

from __future__ import annotations

import datetime

import pytest

from multichat.chat.cache import BoundedCache
from multichat.chat.emoji_names import emoji_character, emoji_name
from multichat.errors import UserError
from multichat.platforms._pages import Batch, newest_first, numbered_window, read_offset

T0 = datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC)


def test_the_cache_drops_the_least_recently_used_entry() -> None:
    cache: BoundedCache[str, str] = BoundedCache(size=2)
    cache.put("a", "Ada")
    cache.put("b", "Grace")
    assert cache.get("a") == "Ada"  # now the most recently used
    cache.put("c", "Linus")

    assert (cache.get("a"), cache.get("b"), cache.get("c")) == ("Ada", None, "Linus")
    assert len(cache) == 2
    assert cache.missing(["a", "b", "b", "d"]) == ["b", "d"]


def test_emoji_names_and_characters_go_both_ways() -> None:
    assert emoji_character("thumbsup") == emoji_character("+1") == emoji_character(":+1:") == "👍"
    assert emoji_character("👍") == "👍"
    assert emoji_name("👍") == "thumbsup"
    assert emoji_name("🎉") == "tada"
    assert emoji_name("custom text") == "custom text"
    with pytest.raises(UserError, match="no emoji is called 'nope'"):
        emoji_character("nope")


async def test_newest_first_pages_a_history_of_small_batches_without_repeats() -> None:
    items = list(range(25, 0, -1))  # newest first
    fetched: list[str | None] = []

    async def fetch(before: str | None) -> Batch[int]:
        fetched.append(before)
        start = 0 if before is None else items.index(int(before)) + 1
        batch = items[start : start + 4]
        return Batch(batch, start + 4 >= len(items))

    def sent(item: int) -> datetime.datetime:
        return T0 + datetime.timedelta(minutes=item)

    seen: list[int] = []
    cursor = None
    for _ in range(20):
        page, cursor = await newest_first(
            fetch, limit=6, cursor=cursor, key=str, sent=sent, keep=lambda item: item % 5 != 0
        )
        seen += page
        if cursor is None:
            break

    assert seen == [item for item in items if item % 5 != 0]
    window, after = await newest_first(
        fetch, limit=50, cursor=None, key=str, sent=sent, oldest=sent(3), latest=sent(9)
    )
    assert window == [8, 7, 6, 5, 4]
    assert after is None


async def test_numbered_window_reads_from_any_offset() -> None:
    people = [f"u{n}" for n in range(10)]
    asked: list[tuple[int, int]] = []

    async def fetch_page(page: int, per_page: int) -> list[str]:
        asked.append((page, per_page))
        return people[page * per_page : (page + 1) * per_page]

    assert await numbered_window(fetch_page, 0, 4) == (people[0:4], True)
    assert await numbered_window(fetch_page, 6, 3) == (people[6:9], True)
    assert await numbered_window(fetch_page, 7, 3) == (people[7:10], False)
    assert asked == [(0, 4), (2, 3), (2, 3), (3, 3)]


def test_an_offset_cursor_is_a_number() -> None:
    assert (read_offset(None), read_offset(""), read_offset("12")) == (0, 0, 12)
    with pytest.raises(UserError, match="not a cursor this tool gave"):
        read_offset("-1")
