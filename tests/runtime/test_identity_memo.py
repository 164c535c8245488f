"""``IdentityMemo`` makes a form once per object, tells equal objects apart, and stays bounded."""

from __future__ import annotations

import pytest

from multichat.runtime import identity_memo
from multichat.runtime.identity_memo import IdentityMemo


def test_a_form_is_made_once_per_object_and_equal_objects_are_apart() -> None:
    made: list[dict[str, int]] = []

    def make(key: dict[str, int]) -> int:
        made.append(key)
        return len(made)

    memo = IdentityMemo(make)
    first, twin = {"a": 1}, {"a": 1}

    assert [memo(first), memo(first), memo(twin), memo(first)] == [1, 1, 2, 1]
    assert made == [first, twin]
    assert made[0] is first
    assert made[1] is twin


def test_the_memory_is_cleared_past_its_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(identity_memo, "MAX_KEPT", 2)
    calls: list[object] = []
    memo = IdentityMemo(lambda key: calls.append(key) or len(calls))
    keys = [object() for _ in range(3)]

    for key in keys:
        memo(key)
    memo(keys[0])  # forgotten when the third came in: made again

    assert calls == [*keys, keys[0]]
