"""Message text both ways: the tools take Markdown, each platform gets its own format.

One module per format (``slack``, ``discord``, ``google_chat``, ``html`` for Teams and Matrix,
``mattermost``, ``zulip``), pure functions ``to_X(markdown)`` and ``from_X(text, ...)``; the
length limits live in ``limits``. Names load on first use (PEP 562): the HTML reader pulls in
BeautifulSoup, which a Slack provider never needs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from multichat.chat.markup._reading import Resolver
    from multichat.chat.markup.discord import from_discord, to_discord
    from multichat.chat.markup.google_chat import from_google_chat, to_google_chat
    from multichat.chat.markup.html import from_html, to_html
    from multichat.chat.markup.limits import LIMITS, Limit, MessageTooLong, Unit, check_length
    from multichat.chat.markup.mattermost import from_mattermost, to_mattermost
    from multichat.chat.markup.slack import from_mrkdwn, to_mrkdwn
    from multichat.chat.markup.zulip import from_zulip, to_zulip

#: Public name -> module (in this package) that defines it.
_EXPORTS: dict[str, str] = {
    "Resolver": "_reading",
    "to_discord": "discord",
    "from_discord": "discord",
    "to_google_chat": "google_chat",
    "from_google_chat": "google_chat",
    "to_html": "html",
    "from_html": "html",
    "LIMITS": "limits",
    "Limit": "limits",
    "MessageTooLong": "limits",
    "Unit": "limits",
    "check_length": "limits",
    "to_mattermost": "mattermost",
    "from_mattermost": "mattermost",
    "to_mrkdwn": "slack",
    "from_mrkdwn": "slack",
    "to_zulip": "zulip",
    "from_zulip": "zulip",
}

__all__ = [
    "LIMITS",
    "Limit",
    "MessageTooLong",
    "Resolver",
    "Unit",
    "check_length",
    "from_discord",
    "from_google_chat",
    "from_html",
    "from_mattermost",
    "from_mrkdwn",
    "from_zulip",
    "to_discord",
    "to_google_chat",
    "to_html",
    "to_mattermost",
    "to_mrkdwn",
    "to_zulip",
]


def __getattr__(name: str) -> Any:
    """Import the module that defines ``name`` on first use."""
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
