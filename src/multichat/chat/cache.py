"""The bounded per-process cache adapters keep names in (users, channels, rooms by id).

Results carry names beside ids (PRESETS.md: the model never calls ``list_users`` to read a
message), so adapters look names up often; cachetools' LRU cache keeps the most recently used
and drops the oldest past its size, so a long-running server's memory stays bounded.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from cachetools import LRUCache

K = TypeVar("K")
V = TypeVar("V")

#: Entries per cache unless an adapter says otherwise.
DEFAULT_SIZE = 4096


class BoundedCache(LRUCache[K, V]):
    """Up to ``size`` entries; the least recently used goes first."""

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        """An empty cache holding at most ``size`` entries."""
        super().__init__(maxsize=size)

    def put(self, key: K, value: V) -> None:
        """Keep ``value`` for ``key`` (dropping the least recently used when full)."""
        self[key] = value

    def missing(self, keys: Iterable[K]) -> list[K]:
        """The distinct ``keys`` not held, in first-seen order."""
        return [key for key in dict.fromkeys(keys) if key not in self]
