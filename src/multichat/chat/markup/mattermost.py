"""Mattermost Markdown both ways: nothing to translate.

Mattermost renders Markdown itself (https://docs.mattermost.com/collaborate/format-messages.html)
and shows raw HTML as text, so Markdown goes out as written, and a post's ``message`` is
already Markdown whose ``@username`` mentions read well as they are.
"""

from __future__ import annotations


def to_mattermost(markdown: str) -> str:
    """Markdown (CommonMark) -> Mattermost post ``message``: unchanged."""
    return markdown


def from_mattermost(text: str) -> str:
    """Mattermost post ``message`` -> Markdown: unchanged (``@username`` stays)."""
    return text
