r"""Discord Markdown both ways.

Rules from https://support.discord.com/hc/en-us/articles/210298617 ("Markdown Text 101"):
``*italic*``, ``**bold**``, ``__underline__``, ``~~strike~~``, headings ``#``/``##``/``###``
only, ``-#`` subtext, masked links ``[text](url)``, lists, quotes, code; ``\`` escapes.
Masked links are sent as links: that article lists them for messages. Mentions, emoji and
timestamps are Discord's ``<...>`` forms, from
https://discord.com/developers/docs/reference#message-formatting.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from multichat.chat.markup._markdown_writer import MarkdownDialect, write_markdown
from multichat.chat.markup._reading import Resolver, name_for, split_code

# reference#message-formatting: user, user (nickname), role, channel, custom emoji (also
# animated), timestamp with optional style, slash command.
_DISCORD_FORM = (
    r"<(?:@!?(?P<user>\d+)|@&(?P<role>\d+)|#(?P<channel>\d+)"
    r"|a?:(?P<emoji>\w+):\d+|t:(?P<time>-?\d+)(?::[tTdDfFR])?|/(?P<command>[\w -]+):\d+)>"
)
_FORM = re.compile(_DISCORD_FORM)
# The same forms as mdformat escapes them ("\<@123>"), to keep them live when sending.
_ESCAPED_FORM = re.compile(r"\\" + _DISCORD_FORM)

# "Markdown Text 101", Headers: only three levels render; deeper ones become bold lines.
_DIALECT = MarkdownDialect(max_heading_level=3, platform_syntax=_ESCAPED_FORM)


def to_discord(markdown: str) -> str:
    """Markdown (CommonMark) -> Discord message ``content``.

    Mostly unchanged; CommonMark's ``__bold__`` becomes ``**bold**`` (Discord would underline
    it), ``####`` and deeper headings become bold lines, images become links, and Discord's
    own ``<@123>`` / ``<#123>`` / ``<:emoji:123>`` forms pass through.
    Example: ``to_discord("__Hi__ <@42>")`` -> ``"**Hi** <@42>"``.
    """
    return write_markdown(markdown, _DIALECT)


def from_discord(
    text: str,
    resolve_user: Resolver | None = None,
    resolve_channel: Resolver | None = None,
    resolve_role: Resolver | None = None,
) -> str:
    """Discord message ``content`` -> Markdown, with mentions by name.

    ``<@123>`` / ``<@!123>`` -> ``@Ada``, ``<#123>`` -> ``#general``, ``<@&123>`` -> ``@Mods``
    (each through its resolver; the id stays when it answers None), ``<:name:id>`` ->
    ``:name:``, ``<t:1700000000:R>`` -> ``2023-11-14T22:13:20Z``. Code is left as written.
    """

    def replace(match: re.Match[str]) -> str:
        if match["user"]:
            return "@" + name_for(match["user"], None, resolve_user)
        if match["role"]:
            return "@" + name_for(match["role"], None, resolve_role)
        if match["channel"]:
            return "#" + name_for(match["channel"], None, resolve_channel)
        if match["emoji"]:
            return f":{match['emoji']}:"
        if match["command"]:
            return "/" + match["command"]
        return _iso_time(match["time"]) or match.group()

    return "".join(
        piece if is_code else _FORM.sub(replace, piece) for piece, is_code in split_code(text)
    )


def _iso_time(seconds: str) -> str | None:
    """``<t:...>`` as ISO 8601 UTC, or None for a timestamp no calendar can hold."""
    try:
        moment = datetime.fromtimestamp(int(seconds), tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None
    return moment.isoformat().replace("+00:00", "Z")
