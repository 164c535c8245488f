"""A JSON and JSON-with-comments parser that remembers where every value sits in the text.

``json.loads`` gives data but no positions, and would accept neither comments nor trailing
commas. Editing a client's file byte-for-byte (see ``json_splice``) needs both: the offsets of
each object member and array item, and the dialect the client reads. The dialects:

- plain JSON, for clients that call ``JSON.parse`` on the file (Claude Desktop, Claude Code);
- JSON with ``//`` and ``/* */`` comments but no trailing commas (Gemini CLI: it runs
  ``strip-json-comments`` before ``JSON.parse``, packages/cli/src/config/settings.ts);
- JSONC, comments and trailing commas (VS Code and Cursor, which use VS Code's jsonc parser).

Strings and numbers are decoded by ``json.loads`` on their exact text, so values mean the same
as in the standard library. PyPI's round-trip JSON libraries were weighed first: ``json-five``
(JSON5: accepts single quotes and bare keys that these clients refuse, and needs ``sly``),
``jsonc-edit`` (runs Node and downloads an npm package at run time), ``json-with-comments``
and ``commentjson`` (no positions, no round trip).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from multichat.clients.errors import InvalidClientFile


@dataclass(frozen=True)
class Dialect:
    """What a client accepts beyond plain JSON; ``reader`` names it in error messages."""

    comments: bool
    trailing_commas: bool
    reader: str


PLAIN_JSON = Dialect(comments=False, trailing_commas=False, reader="plain JSON")
JSON_WITH_COMMENTS = Dialect(comments=True, trailing_commas=False, reader="JSON with comments")
JSONC = Dialect(comments=True, trailing_commas=True, reader="JSONC")


@dataclass
class Entry:
    """An object member or array item: where it starts, its key, its value, its comma."""

    start: int
    key: str | None
    node: Node
    comma: int | None = None


@dataclass
class Node:
    """A value and its span ``[start, end)``; containers list their entries in order."""

    kind: Literal["object", "array", "scalar"]
    start: int
    end: int
    value: Any
    entries: list[Entry] = field(default_factory=list)


_STRING = re.compile(r'"(?:[^"\\\x00-\x1f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*"')
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_LITERALS = {"true": True, "false": False, "null": None}
_WHITESPACE = " \t\r\n"


def parse(text: str, source: str, dialect: Dialect) -> Node | None:
    """Parse ``text`` (``source`` names it in errors); ``None`` if it holds no value at all.

    Raises:
        InvalidClientFile: the text is not valid in ``dialect``; the message says where.
    """
    parser = _Parser(text, source, dialect)
    try:
        return parser.document()
    except RecursionError:
        raise InvalidClientFile(f"{source}: nested too deeply to edit safely") from None


def line_and_column(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of ``offset`` in ``text``."""
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


class _Parser:
    def __init__(self, text: str, source: str, dialect: Dialect) -> None:
        self.text = text
        self.source = source
        self.dialect = dialect
        self.position = 1 if text.startswith("\ufeff") else 0

    def document(self) -> Node | None:
        self.skip()
        if self.position == len(self.text):
            return None
        node = self.value()
        self.skip()
        if self.position != len(self.text):
            raise self.error("unexpected text after the end of the JSON value")
        return node

    def error(self, problem: str, at: int | None = None) -> InvalidClientFile:
        line, column = line_and_column(self.text, self.position if at is None else at)
        return InvalidClientFile(
            f"{self.source}:{line}:{column}: {problem}; fix the file (it was left unchanged)"
        )

    def skip(self) -> None:
        """Move past whitespace and, where the dialect allows them, comments."""
        text = self.text
        while self.position < len(text):
            char = text[self.position]
            if char in _WHITESPACE:
                self.position += 1
            elif text.startswith(("//", "/*"), self.position):
                if not self.dialect.comments:
                    raise self.error(f"comments are not allowed here (it is read as {self._as()})")
                if text[self.position + 1] == "/":
                    newline = text.find("\n", self.position)
                    self.position = len(text) if newline < 0 else newline
                else:
                    close = text.find("*/", self.position + 2)
                    if close < 0:
                        raise self.error("a /* comment is never closed")
                    self.position = close + 2
            else:
                return

    def _as(self) -> str:
        return self.dialect.reader

    def value(self) -> Node:
        text, start = self.text, self.position
        if start >= len(text):
            raise self.error("the file ends where a value should be")
        char = text[start]
        if char == "{":
            return self.container("object", "}")
        if char == "[":
            return self.container("array", "]")
        if char == '"':
            return self.scalar(_STRING, "a string is not closed, or holds a bad escape")
        if char == "-" or char.isdigit():
            return self.scalar(_NUMBER, "not a valid number")
        for word, meaning in _LITERALS.items():
            if text.startswith(word, start):
                self.position += len(word)
                return Node("scalar", start, self.position, meaning)
        raise self.error(f"unexpected {char!r} where a value should be")

    def scalar(self, pattern: re.Pattern[str], problem: str) -> Node:
        match = pattern.match(self.text, self.position)
        if match is None:
            raise self.error(problem)
        self.position = match.end()
        return Node("scalar", match.start(), match.end(), json.loads(match.group()))

    def container(self, kind: Literal["object", "array"], close: str) -> Node:
        node = Node(kind, self.position, -1, {} if kind == "object" else [])
        self.position += 1
        self.skip()
        while not self.text.startswith(close, self.position):
            entry = self.member() if kind == "object" else self.item()
            node.entries.append(entry)
            if kind == "object":
                node.value[entry.key] = entry.node.value
            else:
                node.value.append(entry.node.value)
            self.skip()
            if self.text.startswith(",", self.position):
                entry.comma = self.position
                self.position += 1
                self.skip()
                if self.text.startswith(close, self.position) and not self.dialect.trailing_commas:
                    raise self.error(
                        f"a comma before {close!r} is not allowed (it is read as {self._as()})",
                        at=entry.comma,
                    )
            elif not self.text.startswith(close, self.position):
                what = "a ',' or '}'" if kind == "object" else "a ',' or ']'"
                raise self.error(f"expected {what}")
        self.position += 1
        node.end = self.position
        return node

    def member(self) -> Entry:
        start = self.position
        if not self.text.startswith('"', start):
            raise self.error("expected a double-quoted key")
        key = self.scalar(_STRING, "a key is not closed, or holds a bad escape").value
        self.skip()
        if not self.text.startswith(":", self.position):
            raise self.error("expected ':' after the key")
        self.position += 1
        self.skip()
        return Entry(start, key, self.value())

    def item(self) -> Entry:
        start = self.position
        return Entry(start, None, self.value())
