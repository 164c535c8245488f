"""What every reader (platform markup -> Markdown) shares: the resolver type, code-aware splitting.

Readers favour a readable result over exact escaping: the Markdown they produce is read by a
model, not rendered again, so plain text is left as it came.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

#: Turns a platform id (user, channel, role) into a display name; None when it is unknown.
Resolver = Callable[[str], str | None]

#: Markdown code: fenced blocks (``` or ~~~; an unclosed one runs to the end) and code spans.
MARKDOWN_CODE = re.compile(r"```.*?(?:```|\Z)|~~~.*?(?:~~~|\Z)|`[^`\n]+`", re.DOTALL)


def split_code(text: str, code: re.Pattern[str] = MARKDOWN_CODE) -> Iterator[tuple[str, bool]]:
    """Yield ``(piece, is_code)`` in order, so readers can leave code exactly as written."""
    position = 0
    for match in code.finditer(text):
        if match.start() > position:
            yield text[position : match.start()], False
        yield match.group(), True
        position = match.end()
    if position < len(text):
        yield text[position:], False


def name_for(identifier: str, label: str | None, resolve: Resolver | None) -> str:
    """The platform's own label if it sent one, else the resolver's name, else the raw id."""
    if label:
        return label
    if resolve is not None:
        name = resolve(identifier)
        if name:
            return name
    return identifier


def markdown_link(label: str, url: str) -> str:
    """``[label](url)``, or ``<url>`` when the label is the URL itself."""
    if not label or label == url:
        return f"<{url}>" if " " not in url and "<" not in url and ">" not in url else url
    label = label.replace("[", r"\[").replace("]", r"\]")
    if any(char in url for char in " ()<>"):
        url = "<" + url.replace("<", "%3C").replace(">", "%3E") + ">"
    return f"[{label}]({url})"
