"""Check HTTP requests and canned answers against a chat platform's own API description.

    spec = load_spec("discord")              # slack, discord, mattermost, google_chat; cached
    op = spec.check_request("GET", "/api/v10/channels/1/messages", {"limit": 50},
                            {"Authorization": "Bot t"})          # -> "list_messages"
    spec.check_response(op, 200, [...])

Both raise :class:`SpecViolation` (an AssertionError) listing every :class:`Problem` found, each
with a :class:`Kind`. The descriptions are in ``tests/support/specs/<platform>/`` (source, commit
and licence in each folder's README.md); the readers say what they relax and why: ``slack``,
``openapi`` (Discord, Mattermost), ``discovery`` (Google Chat).

Not checked: headers a description does not declare (clients send many), multipart bodies,
answer headers (except Slack's ``Retry-After`` on 429), and 5xx answers an operation does not
describe.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path

from .discovery import read_google_chat
from .model import CheckedRequest, Kind, Operation, Problem, SpecViolation
from .openapi import read_discord, read_mattermost
from .slack import read_slack
from .spec import PlatformSpec

__all__ = [
    "PLATFORMS",
    "SPECS_DIR",
    "CheckedRequest",
    "Kind",
    "Operation",
    "PlatformSpec",
    "Problem",
    "SpecViolation",
    "load_spec",
]

SPECS_DIR = Path(__file__).resolve().parent.parent / "specs"
_READERS: dict[str, Callable[[Path], PlatformSpec]] = {
    "slack": read_slack,
    "discord": read_discord,
    "mattermost": read_mattermost,
    "google_chat": read_google_chat,
}
PLATFORMS = tuple(_READERS)


@cache
def load_spec(platform: str) -> PlatformSpec:
    """The platform's description, read once per process."""
    try:
        reader = _READERS[platform]
    except KeyError:
        raise ValueError(
            f"no API description for {platform!r}; have {', '.join(PLATFORMS)}"
        ) from None
    return reader(SPECS_DIR / platform)
