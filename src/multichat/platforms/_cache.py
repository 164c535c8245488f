"""A bounded per-process cache of what ids mean (users, channels), shared by the adapters.

Results carry names beside ids (PRESETS.md: the model never calls ``list_users`` to read a
message), so adapters look names up often; the cache keeps the most recently used and drops the
oldest past its size, so a long-running server's memory stays bounded.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from typing import Generic, TypeVar

V = TypeVar("V")


class BoundedCache(Generic[V]):
    """Up to ``size`` entries by string key; the least recently used goes first."""

    def __init__(self, size: int = 4096) -> None:
        """An empty cache holding at most ``size`` entries."""
        self._size = size
        self._items: OrderedDict[str, V] = OrderedDict()

    def __len__(self) -> int:
        """How many entries are held."""
        return len(self._items)

    def get(self, key: str) -> V | None:
        """The value for ``key`` (now the most recently used), or None."""
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key: str, value: V) -> None:
        """Keep ``value`` for ``key``, dropping the least recently used entry when full."""
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self._size:
            self._items.popitem(last=False)

    def missing(self, keys: Iterable[str]) -> list[str]:
        """The distinct ``keys`` not held, in first-seen order."""
        return [key for key in dict.fromkeys(keys) if key not in self._items]
