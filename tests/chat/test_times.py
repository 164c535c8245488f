"""Time arguments of the chat tools and the inbox: absolute times and ages."""

from __future__ import annotations

import datetime

import pytest

from multichat.chat.times import iso, parse_since, parse_time
from multichat.errors import UserError

NOW = datetime.datetime(2025, 6, 6, 12, 0, tzinfo=datetime.UTC)


def test_parse_time_reads_iso_and_unix_seconds_as_utc():
    assert iso(parse_time("2025-06-05T09:00:00+02:00")) == "2025-06-05T07:00:00Z"
    assert iso(parse_time("1748822400")) == "2025-06-02T00:00:00Z"
    assert parse_time("  ") is None


@pytest.mark.parametrize(
    ("age", "expected"),
    [
        ("90m", "2025-06-06T10:30:00Z"),
        ("24h", "2025-06-05T12:00:00Z"),
        ("7D", "2025-05-30T12:00:00Z"),
        ("2w", "2025-05-23T12:00:00Z"),
        ("1.5h", "2025-06-06T10:30:00Z"),
    ],
)
def test_parse_since_reads_an_age_before_now(age, expected):
    assert iso(parse_since(age, NOW)) == expected


def test_parse_since_still_reads_absolute_times_and_names_every_form_when_wrong():
    assert iso(parse_since("2025-06-05T09:00:00Z", NOW)) == "2025-06-05T09:00:00Z"
    assert parse_since(None, NOW) is None
    with pytest.raises(UserError, match=r"give an age \(24h, 7d\), ISO-8601"):
        parse_since("yesterday", NOW)
