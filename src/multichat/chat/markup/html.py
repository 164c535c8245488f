"""HTML both ways, for Microsoft Teams and Matrix.

Teams sends it as ``chatMessage.body`` with ``contentType: html``, Matrix as ``formatted_body``
with ``format: org.matrix.custom.html``.

Writing, raw HTML in the Markdown is escaped, never passed on, and only http, https and mailto
links are made (:mod:`.commonmark`). Every tag written is one the Matrix spec permits
(https://spec.matrix.org/latest/client-server-api/#mroommessage-msgtypes: p, em, strong, s, a,
code, pre, blockquote, ul, ol, li, h1-h6, hr, br) and Teams renders. Images become links: Matrix
allows ``<img>`` only for ``mxc://`` sources and Teams only for hosted content.

Reading uses markdownify (a BeautifulSoup tree walk, well kept) with three additions:
Teams mentions ``<at id="0">Ada</at>``
(https://learn.microsoft.com/en-us/graph/api/chatmessage-post, "Post a message with
mentions"), Matrix user pills ``<a href="https://matrix.to/#/@ada:x">Ada</a>`` (spec, "User and
room mentions"), and the ``<mx-reply>`` reply fallback, which the spec says clients strip
("Fallbacks for rich replies").
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from bs4 import Tag
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from markdownify import MarkdownConverter

from multichat.chat.markup._reading import markdown_link
from multichat.chat.markup.commonmark import new_parser

_MATRIX_TO = "https://matrix.to/#/"


def _image_as_link(
    renderer: RendererHTML, tokens: Sequence[Token], index: int, options: OptionsDict, env: EnvType
) -> str:
    token = tokens[index]
    href = escapeHtml(str(token.attrs.get("src", "")))
    alt = renderer.renderInlineAsText(token.children or [], options, env)
    return f'<a href="{href}">{escapeHtml(alt or href)}</a>'


@cache
def _html_parser() -> MarkdownIt:
    parser = new_parser()
    parser.add_render_rule("image", _image_as_link)
    return parser


def to_html(markdown: str) -> str:
    """Markdown (CommonMark) -> HTML safe to send as Teams or Matrix message HTML.

    Example: ``to_html("**Hi** <b>")`` -> ``"<p><strong>Hi</strong> &lt;b&gt;</p>"``.
    """
    return str(_html_parser().render(markdown)).rstrip("\n")


class _ChatHtmlConverter(MarkdownConverter):
    """markdownify, plus Teams mentions, Matrix pills and the Matrix reply fallback."""

    def convert_at(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        """Teams ``<at id="0">Ada Lovelace</at>`` -> ``@Ada Lovelace``."""
        return "@" + text.strip()

    def convert_mx_reply(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        """The quoted original of a Matrix reply: the reply itself says what it answers."""
        return ""

    def convert_emoji(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        """Teams ``<emoji alt="🙂">``: the emoji itself."""
        return str(el.get("alt") or text)

    def convert_a(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        """Links as Markdown; a Matrix user pill as ``@Name``."""
        href = str(el.get("href") or "")
        if href.startswith(_MATRIX_TO + "@"):
            return "@" + text.strip().removeprefix("@")
        if not href or "_noformat" in parent_tags:
            return text
        return markdown_link(text.strip(), href)


def _code_language(pre: Any) -> str | None:
    """``<pre><code class="language-py">`` -> ``py`` (Matrix and markdown-it both write this)."""
    code = pre.find("code") if isinstance(pre, Tag) else None
    classes = code.get("class") if isinstance(code, Tag) else None
    for name in classes or ():
        if name.startswith("language-"):
            return str(name.removeprefix("language-"))
    return None


def from_html(html: str) -> str:
    """Teams or Matrix message HTML -> Markdown.

    Example: ``from_html('<p>Hi <at id="0">Ada</at>, <b>see</b> <a href="https://x.org">this</a></p>')``
    -> ``"Hi @Ada, **see** [this](https://x.org)"``.
    """
    converter = _ChatHtmlConverter(
        heading_style="ATX",
        bullets="-",
        newline_style="BACKSLASH",
        escape_asterisks=False,  # readers keep text readable (see ._reading)
        escape_underscores=False,
        code_language_callback=_code_language,
    )
    return converter.convert(html).strip("\n")
