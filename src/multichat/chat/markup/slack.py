"""Slack mrkdwn both ways.

Rules from https://api.slack.com/reference/surfaces/formatting ("Formatting text for app
surfaces"): ``*bold*``, ``_italic_``, ``~strike~``, `` `code` ``, ```` ```block``` ````,
``>`` quotes, ``<url|label>`` links; ``&``, ``<`` and ``>`` are control characters and must be
sent as ``&amp;``, ``&lt;``, ``&gt;``. mrkdwn has no headings, lists or backslash escapes.
"""

from __future__ import annotations

from multichat.chat.markup._reading import Resolver, markdown_link, name_for
from multichat.chat.markup._star_markup import (
    StarReader,
    StarWriter,
    read_star_markup,
    write_star_markup,
)


def escape_mrkdwn(text: str) -> str:
    """Escape Slack's three control characters (formatting#escaping); nothing else is encoded."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape_mrkdwn(text: str) -> str:
    """Undo :func:`escape_mrkdwn`, decoding ``&amp;`` last so nothing is decoded twice."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _link(url: str, label: str) -> str:
    # formatting#linking-urls: <url|label>; a "|" in the URL would end it early.
    target = escape_mrkdwn(url).replace("|", "%7C")
    return f"<{target}>" if label == url else f"<{target}|{escape_mrkdwn(label)}>"


# Headings become bold lines and lists "•" bullets: mrkdwn has neither (formatting#basics).
_WRITER = StarWriter(escape=escape_mrkdwn, bullet="• ", link=_link)


def to_mrkdwn(markdown: str) -> str:
    """Markdown (CommonMark) -> Slack mrkdwn for ``chat.postMessage``'s ``text``.

    Example: ``to_mrkdwn("**Hi** [docs](https://x.org) a<b")`` ->
    ``"*Hi* <https://x.org|docs> a&lt;b"``.
    """
    return write_star_markup(markdown, _WRITER)


def from_mrkdwn(
    text: str,
    resolve_user: Resolver | None = None,
    resolve_channel: Resolver | None = None,
) -> str:
    """Slack mrkdwn (a message's ``text``) -> Markdown, with people and channels by name.

    ``<@U123>`` -> ``@Ada Lovelace`` through ``resolve_user`` (the id stays when it answers None),
    ``<#C123|general>`` -> ``#general`` (``resolve_channel`` when Slack sent no label),
    ``<https://x|label>`` -> ``[label](https://x)``, ``*b*`` -> ``**b**``, ``_i_`` -> ``*i*``.
    """

    def angle(inner: str) -> str | None:
        return _angle(inner, resolve_user, resolve_channel)

    return read_star_markup(text, StarReader(unescape=unescape_mrkdwn, angle=angle))


# formatting#mentioning-users, #linking-channels, #special-mentions, #date-formatting: what
# Slack puts between < and >.
def _angle(inner: str, resolve_user: Resolver | None, resolve_channel: Resolver | None) -> str:
    target, _, label = (unescape_mrkdwn(part) for part in inner.partition("|"))
    if target.startswith("@"):
        return "@" + name_for(target[1:], label, resolve_user)
    if target.startswith("#"):
        return "#" + name_for(target[1:], label, resolve_channel)
    if target.startswith("!"):
        return _special(target, label)
    return markdown_link(label, target)


def _special(target: str, label: str) -> str:
    name, _, argument = target[1:].partition("^")
    if name == "subteam":  # <!subteam^ID|@team>: the label already carries the "@"
        return label if label.startswith("@") else "@" + (label or argument)
    if name == "date":  # <!date^epoch^format|fallback>: Slack's own fallback text
        return label or argument.partition("^")[0]
    return label if label.startswith("@") else "@" + (label or name)  # here, channel, everyone
