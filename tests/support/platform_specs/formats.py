"""Checks for the ``format`` values the four descriptions use on strings.

``date-time``, ``email`` and ``uri`` are jsonschema-rs's own; these are Google's (discovery
documents) and the integer formats Google sends as strings (its JSON mapping writes 64-bit
integers as strings, https://protobuf.dev/programming-guides/json/). Formats on numbers are
not checked, and unknown formats (Discord's ``snowflake``, which a ``pattern`` checks anyway)
are ignored.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from datetime import datetime

_RFC3339 = re.compile(r"\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]\d\d:\d\d)")
_INTEGER = re.compile(r"-?\d+")


def _is_datetime(value: str) -> bool:
    if not _RFC3339.fullmatch(value):
        return False
    # fromisoformat takes at most 6 fraction digits; Google sends up to 9.
    trimmed = re.sub(r"(\.\d{6})\d+", r"\1", value.upper().replace("Z", "+00:00"))
    try:
        datetime.fromisoformat(trimmed)
    except ValueError:
        return False
    return True


def _is_base64(value: str) -> bool:
    text = value.replace("-", "+").replace("_", "/")
    try:
        base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (ValueError, binascii.Error):
        return False
    return True


def _integer_within(low: int, high: int) -> Callable[[str], bool]:
    return lambda value: bool(_INTEGER.fullmatch(value)) and low <= int(value) <= high


FORMATS: dict[str, Callable[[str], bool]] = {
    "google-datetime": _is_datetime,
    "google-duration": lambda value: bool(re.fullmatch(r"-?\d+(\.\d{1,9})?s", value)),
    "byte": _is_base64,
    "int32": _integer_within(-(2**31), 2**31 - 1),
    "uint32": _integer_within(0, 2**32 - 1),
    "int64": _integer_within(-(2**63), 2**63 - 1),
    "uint64": _integer_within(0, 2**64 - 1),
}
