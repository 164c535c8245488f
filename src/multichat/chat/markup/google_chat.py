"""Google Chat's text format both ways (``MARKUP_SYNTAX_CHAT``).

Rules from https://developers.google.com/workspace/chat/format-messages ("Format a text
message"): ``*bold*``, ``_italic_``, ``~strike~``, `` `code` ``, ```` ```block``` ````, ``* ``
or ``- `` bullets, ``<url|text>`` links, ``<users/{user}>`` and ``<users/all>`` mentions. The
page documents no escaping, so text goes out as written and a ``<users/...>`` the caller wrote
stays a mention. (The API also accepts ``markupSyntax: MARKUP_SYNTAX_MARKDOWN``, chat.v1.json
``Message.markupSyntax``; this module serves apps that keep the Chat syntax.)
"""

from __future__ import annotations

from multichat.chat.markup._reading import Resolver, markdown_link, name_for
from multichat.chat.markup._star_markup import (
    StarReader,
    StarWriter,
    read_star_markup,
    write_star_markup,
)


def _link(url: str, label: str) -> str:
    # format-messages "Hyperlink": <https://example.com|Example website>
    return f"<{url}>" if label == url else f"<{url}|{label}>"


def _unchanged(text: str) -> str:
    return text


_WRITER = StarWriter(escape=_unchanged, bullet="* ", link=_link)


def to_google_chat(markdown: str) -> str:
    """Markdown (CommonMark) -> Google Chat text for ``spaces.messages.create``'s ``text``.

    Example: ``to_google_chat("**Hi** <users/123>, see [docs](https://x.org)")`` ->
    ``"*Hi* <users/123>, see <https://x.org|docs>"``.
    """
    return write_star_markup(markdown, _WRITER)


def from_google_chat(text: str, resolve_user: Resolver | None = None) -> str:
    """Google Chat text (a message's ``formattedText``) -> Markdown.

    ``<users/123>`` -> ``@Ada`` through ``resolve_user`` (called with ``"users/123"``; the
    resource name stays when it answers None), ``<users/all>`` -> ``@all``,
    ``<https://x|label>`` -> ``[label](https://x)``, ``*b*`` -> ``**b**``, ``_i_`` -> ``*i*``.
    """

    def angle(inner: str) -> str | None:
        target, _, label = inner.partition("|")
        if target == "users/all":
            return "@all"
        if target.startswith("users/"):
            return "@" + name_for(target, None, resolve_user)
        if "://" in target or target.startswith("mailto:"):
            return markdown_link(label, target)
        return None

    return read_star_markup(text, StarReader(unescape=_unchanged, angle=angle))
