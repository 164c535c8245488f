"""Remember what was made from an object by the object's identity, for listings made often.

Listing middleware turns the same schema and annotation objects into the same listed forms on
every ``tools/list``; each form is made once per object. The object is held beside its form, so
its ``id`` cannot be reused by another while remembered.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")

#: Above this many kept objects the memory is cleared (objects rebuilt on every listing, by a
#: transform, would otherwise pile up).
MAX_KEPT = 10_000


class IdentityMemo(Generic[K, V]):
    """``make(key)`` once per key object (by identity), at most :data:`MAX_KEPT` kept."""

    def __init__(self, make: Callable[[K], V]) -> None:
        self._make = make
        self._kept: dict[int, tuple[K, V]] = {}

    def __call__(self, key: K) -> V:
        """What ``make`` made of ``key``, made now if ``key`` is new."""
        known = self._kept.get(id(key))
        if known is not None and known[0] is key:
            return known[1]
        made = self._make(key)
        if len(self._kept) >= MAX_KEPT:
            self._kept.clear()
        self._kept[id(key)] = (key, made)
        return made
