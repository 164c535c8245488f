"""Zulip Markdown both ways.

Zulip speaks a GitHub-flavoured Markdown (https://zulip.com/help/format-your-message-using-markdown):
``**bold**``, ``*italic*``, ``~~strike~~``, links, lists, quotes, code. Writing normalises
emphasis to ``*`` (the page documents only that form) and images to links (Zulip previews a
linked image). Reading turns Zulip's mention and stream-link syntax into plain names
(https://zulip.com/help/mention-a-user-or-group, https://zulip.com/help/link-to-a-message-or-conversation).
Read messages with ``apply_markdown=false`` to get this Markdown rather than rendered HTML
(https://zulip.com/api/get-messages); :func:`.html.from_html` reads the HTML form.
"""

from __future__ import annotations

import re

from multichat.chat.markup._markdown_writer import MarkdownDialect, write_markdown
from multichat.chat.markup._reading import split_code

# A silent mention "@_**Name**": mdformat would escape its "_" (the "**Name**" is its own node).
_DIALECT = MarkdownDialect(platform_syntax=re.compile(r"@\\_\Z"))

# @**Name**, @**Name|123** (disambiguated), @_**Name** (silent), @*group*, @_*group*;
# #**stream**, #**stream>topic**, #**stream>topic@123** (a message link).
_SYNTAX = re.compile(
    r"@_?\*\*(?P<user>[^*|\n]+)(?:\|\d+)?\*\*"
    r"|@_?\*(?P<group>[^*\n]+)\*"
    r"|#\*\*(?P<stream>[^*>\n]+)(?:>(?P<topic>[^*\n]+?))?(?:@\d+)?\*\*"
)


def to_zulip(markdown: str) -> str:
    """Markdown (CommonMark) -> Zulip message ``content``; ``@**Name**`` mentions pass through.

    Example: ``to_zulip("_hi_ @**Ada**")`` -> ``"*hi* @**Ada**"``.
    """
    return write_markdown(markdown, _DIALECT)


def from_zulip(text: str) -> str:
    """Zulip message ``content`` (raw Markdown) -> Markdown with mentions and streams by name.

    ``@**Ada Lovelace|12**`` -> ``@Ada Lovelace``, ``@*support*`` -> ``@support``,
    ``#**design>logo**`` -> ``#design > logo``. Zulip already writes names, so no resolver.
    """

    def replace(match: re.Match[str]) -> str:
        if match["user"] or match["group"]:
            return "@" + (match["user"] or match["group"])
        topic = f" > {match['topic']}" if match["topic"] else ""
        return f"#{match['stream']}{topic}"

    return "".join(
        piece if is_code else _SYNTAX.sub(replace, piece) for piece, is_code in split_code(text)
    )
