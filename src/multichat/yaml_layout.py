"""The parts of a YAML file's text that an edit of its data must hand back as they were.

The line-based edits of ``provider-config.yaml`` (and ruamel.yaml's round trip, their
fallback) see one LF-ended document. :func:`keep_layout` takes off what they would lose or
change (CRLF line endings, a byte-order mark, a missing final newline, the prelude up to a
``---`` marker with its comments and ``%`` directives, a ``...`` end marker and what follows
it), lets the edit run on the rest, and puts those parts back around the result.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_BOM = "\ufeff"
_START = re.compile(r"---[ \t]*(#.*)?\n?$")
_END = re.compile(r"\.\.\.[ \t]*(#.*)?\n?$")


def keep_layout(text: str, edit: Callable[[str], str]) -> str:
    """Run ``edit`` on the document's body; return its result in ``text``'s own layout."""
    bom = _BOM if text.startswith(_BOM) else ""
    text = text.removeprefix(bom)
    crlf = "\r\n" in text and text.count("\r\n") == text.count("\n")
    if crlf:
        text = text.replace("\r\n", "\n")
    prelude, body, epilogue = split_document(text)
    if prelude and not prelude.endswith("\n"):
        prelude += "\n"  # a file that is only a ``---`` line: the body goes on a line of its own
    edited = edit(body)
    if not epilogue and text and not text.endswith("\n"):
        edited = edited.removesuffix("\n")
    result = prelude + edited + epilogue
    return bom + (result.replace("\n", "\r\n") if crlf else result)


def split_document(text: str) -> tuple[str, str, str]:
    """``(prelude, body, epilogue)``: up to a leading ``---``, the document, from ``...`` on.

    The prelude is split off only when nothing but blank lines, comments and directives come
    before the ``---``, and the epilogue only when nothing but those follow the ``...``: the
    body then is what a parser sees as the document, with no marker of its own.
    """
    lines = text.splitlines(keepends=True)
    start = 0
    for number, line in enumerate(lines):
        if _is_filler(line) or line.startswith("%"):
            continue
        if _START.match(line):
            start = number + 1
        break
    end = len(lines)
    for number in range(start, len(lines)):
        if _END.match(lines[number]):
            if all(_is_filler(line) for line in lines[number + 1 :]):
                end = number
            break
    return "".join(lines[:start]), "".join(lines[start:end]), "".join(lines[end:])


def _is_filler(line: str) -> bool:
    """A blank or comment-only line: no content of the document."""
    stripped = line.strip()
    return not stripped or stripped.startswith("#")
