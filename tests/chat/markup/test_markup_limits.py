"""Length limits: each platform's documented limit, measured in its own unit."""

from __future__ import annotations

import pytest

from multichat.chat.markup import limits
from multichat.chat.markup.limits import LIMITS, Limit, MessageTooLong, Unit, check_length
from multichat.errors import UserError


@pytest.mark.parametrize("name", sorted(LIMITS))
def test_a_message_at_the_limit_passes_and_one_more_is_refused(name: str) -> None:
    limit = LIMITS[name]
    check_length("x" * limit.maximum, limit, name)
    with pytest.raises(MessageTooLong) as refused:
        check_length("x" * (limit.maximum + 1), limit, name)
    assert f"{limit.maximum:,}" in str(refused.value)
    assert refused.value.length == limit.maximum + 1


def test_the_error_is_one_line_that_says_the_limit() -> None:
    with pytest.raises(MessageTooLong) as refused:
        check_length("x" * 2_001, limits.DISCORD, "Discord")
    assert str(refused.value) == (
        "Discord takes at most 2,000 characters per message; this one has 2,001 characters"
    )
    assert isinstance(refused.value, ValueError)
    assert isinstance(refused.value, UserError)


def test_byte_limits_count_utf8_bytes_and_character_limits_count_code_points() -> None:
    text = "é" * 10  # 10 code points, 20 UTF-8 bytes
    check_length(text, Limit(10, Unit.CHARACTERS), "chars")
    with pytest.raises(MessageTooLong, match="at most 10 bytes per message; this one has 20"):
        check_length(text, Limit(10, Unit.UTF8_BYTES), "bytes")


def test_every_preset_has_its_documented_limit() -> None:
    # Each number is cited next to its constant in limits.py.
    assert {name: (limit.maximum, limit.unit) for name, limit in LIMITS.items()} == {
        "slack": (40_000, Unit.CHARACTERS),
        "discord": (2_000, Unit.CHARACTERS),
        "mattermost": (16_383, Unit.CHARACTERS),
        "zulip": (10_000, Unit.CHARACTERS),
        "google_chat": (32_000, Unit.UTF8_BYTES),
        "teams": (28_000, Unit.UTF8_BYTES),
        "matrix": (65_536, Unit.UTF8_BYTES),
    }
