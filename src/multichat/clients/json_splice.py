"""Change one member or item of a JSON (or JSONC) file and keep every other byte as it was.

Each operation parses the text with positions (``jsonc.parse``), splices in or cuts out the
text of a single entry, formatted in the file's own indentation and line endings, and parses the
result again: it must mean the old data with exactly that one change, or the operation fails
rather than write something else. ``keys`` is the path of object keys from the top, such as
``("mcpServers", "chat")``; missing objects on the way are created.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from typing import Any

from multichat.clients.errors import InvalidClientFile
from multichat.clients.jsonc import Dialect, Entry, Node, line_and_column, parse

Edit = tuple[int, int, str]

DEFAULT_INDENT = "  "


def read_data(text: str, source: str, dialect: Dialect) -> dict[str, Any]:
    """The file's data (an empty object for a blank file), checked to be a JSON object."""
    root = parse(text, source, dialect)
    if root is None:
        return {}
    if root.kind != "object":
        raise InvalidClientFile(f"{source}:1: the file must hold a JSON object {{...}}")
    return dict(root.value)


def set_member(text: str, source: str, dialect: Dialect, keys: Sequence[str], value: Any) -> str:
    """Return ``text`` with ``keys`` set to ``value`` (added, or its old value replaced)."""
    data = read_data(text, source, dialect)
    splice = _Splice(text, source, dialect)
    if splice.root is None:
        fresh = splice.fresh(_nest(keys, value))
        return _verified(fresh, source, dialect, _with_member(data, keys, value))
    node, depth = splice.root, 0
    while depth < len(keys) - 1:
        entry = splice.member(node, keys[: depth + 1])
        if entry is None:
            break
        node = splice.expect(entry.node, "object", keys[: depth + 1])
        depth += 1
    entry = splice.member(node, keys[: depth + 1]) if depth == len(keys) - 1 else None
    if entry is not None:
        new_text = splice.replace_value(node, entry, value)
    else:
        new_text = splice.insert(node, keys[depth], _nest(keys[depth + 1 :], value))
    return _verified(new_text, source, dialect, _with_member(data, keys, value))


def remove_member(text: str, source: str, dialect: Dialect, keys: Sequence[str]) -> str | None:
    """Return ``text`` without ``keys``, or ``None`` when the file does not hold it."""
    data = read_data(text, source, dialect)
    splice = _Splice(text, source, dialect)
    node = splice.root
    if node is None:
        return None
    entry: Entry | None = None
    for depth in range(len(keys)):
        node = splice.expect(node, "object", keys[:depth])
        entry = splice.member(node, keys[: depth + 1])
        if entry is None:
            return None
        if depth < len(keys) - 1:
            node = entry.node
    assert entry is not None
    expected = copy.deepcopy(data)
    _parent(expected, keys).pop(keys[-1])
    return _verified(splice.cut(node, entry), source, dialect, expected)


def append_item(text: str, source: str, dialect: Dialect, keys: Sequence[str], item: Any) -> str:
    """Return ``text`` with ``item`` appended to the array at ``keys`` (created if absent)."""
    data = read_data(text, source, dialect)
    splice = _Splice(text, source, dialect)
    array = splice.find(keys)
    if array is None:
        return set_member(text, source, dialect, keys, [item])
    splice.expect(array, "array", keys)
    expected = copy.deepcopy(data)
    _parent(expected, keys)[keys[-1]].append(item)
    return _verified(splice.insert(array, None, item), source, dialect, expected)


def remove_item(text: str, source: str, dialect: Dialect, keys: Sequence[str], index: int) -> str:
    """Return ``text`` without item ``index`` of the array at ``keys``."""
    data = read_data(text, source, dialect)
    splice = _Splice(text, source, dialect)
    array = splice.find(keys)
    if array is None or array.kind != "array" or not 0 <= index < len(array.entries):
        raise InvalidClientFile(f"{source}: `{'.'.join(keys)}` has no item {index}")
    expected = copy.deepcopy(data)
    del _parent(expected, keys)[keys[-1]][index]
    return _verified(splice.cut(array, array.entries[index]), source, dialect, expected)


def _nest(keys: Sequence[str], value: Any) -> Any:
    for key in reversed(keys):
        value = {key: value}
    return value


def _parent(data: dict[str, Any], keys: Sequence[str]) -> Any:
    for key in keys[:-1]:
        data = data[key]
    return data


def _with_member(data: dict[str, Any], keys: Sequence[str], value: Any) -> dict[str, Any]:
    expected = copy.deepcopy(data)
    target = expected
    for key in keys[:-1]:
        target = target.setdefault(key, {})
    target[keys[-1]] = value
    return expected


def _verified(new_text: str, source: str, dialect: Dialect, expected: Any) -> str:
    """``new_text`` if it parses to ``expected``; a bug here must not reach the user's file."""
    try:
        got = read_data(new_text, source, dialect)
    except InvalidClientFile:
        got = None
    if _canonical(got) != _canonical(expected):
        raise InvalidClientFile(
            f"{source}: multichat could not edit this file's layout without changing other "
            "values; the file was left unchanged (please report it)"
        )
    return new_text


def _canonical(data: Any) -> str:
    return json.dumps(data, sort_keys=True, ensure_ascii=False)


class _Splice:
    """The text of one file and its parse tree, with the edits the operations need."""

    def __init__(self, text: str, source: str, dialect: Dialect) -> None:
        self.text = text
        self.source = source
        self.root = parse(text, source, dialect)
        self.newline = "\r\n" if "\r\n" in text else "\n"
        self.unit = self._indent_unit()

    # ---- finding ---------------------------------------------------------------------------

    def find(self, keys: Sequence[str]) -> Node | None:
        node = self.root
        for depth in range(len(keys)):
            if node is None:
                return None
            node = self.expect(node, "object", keys[:depth])
            entry = self.member(node, keys[: depth + 1])
            node = entry.node if entry is not None else None
        return node

    def member(self, node: Node, keys: Sequence[str]) -> Entry | None:
        """The entry of ``node`` for ``keys[-1]``; a key given twice is refused, not guessed."""
        found = [entry for entry in node.entries if entry.key == keys[-1]]
        if len(found) > 1:
            line, _ = line_and_column(self.text, found[1].start)
            raise InvalidClientFile(
                f"{self.source}:{line}: `{'.'.join(keys)}` appears twice; keep one of them"
            )
        return found[0] if found else None

    def expect(self, node: Node, kind: str, keys: Sequence[str]) -> Node:
        if node.kind != kind:
            line, _ = line_and_column(self.text, node.start)
            what = "a JSON object {...}" if kind == "object" else "a JSON array [...]"
            name = f"`{'.'.join(keys)}`" if keys else "the file"
            raise InvalidClientFile(f"{self.source}:{line}: {name} must be {what}")
        return node

    # ---- layout ----------------------------------------------------------------------------

    def _indent_unit(self) -> str:
        """The file's indentation step, read from the first top-level member on its own line."""
        if self.root is not None and self.root.kind == "object":
            for entry in self.root.entries:
                if self.starts_line(entry.start):
                    indent = self.indent_of(entry.start)
                    return indent if indent else DEFAULT_INDENT
        return DEFAULT_INDENT

    def line_start(self, offset: int) -> int:
        return self.text.rfind("\n", 0, offset) + 1

    def starts_line(self, offset: int) -> bool:
        return self.text[self.line_start(offset) : offset].strip(" \t") == ""

    def indent_of(self, offset: int) -> str:
        start = self.line_start(offset)
        line = self.text[start:offset]
        return line[: len(line) - len(line.lstrip(" \t"))]

    def on_one_line(self, node: Node) -> bool:
        return "\n" not in self.text[node.start : node.end]

    def end_of_line(self, offset: int) -> int | None:
        """Where the line's newline is, if only blanks and comments lie before it; else None."""
        text, position = self.text, offset
        while position < len(text):
            if text[position] in " \t":
                position += 1
            elif text.startswith("//", position):
                newline = text.find("\n", position)
                position = len(text) if newline < 0 else newline
            elif text.startswith("/*", position):
                close = text.find("*/", position)
                if close < 0 or "\n" in text[position:close]:
                    return None
                position = close + 2
            else:
                break
        if position == len(text) or text[position] in "\r\n":
            return position
        return None

    def render(self, value: Any, indent: str, inline: bool) -> str:
        if inline:
            return json.dumps(value, ensure_ascii=False)
        dumped = json.dumps(value, indent=self.unit, ensure_ascii=False)
        return dumped.replace("\n", self.newline + indent)

    def entry_text(self, key: str | None, value: Any, indent: str, inline: bool) -> str:
        rendered = self.render(value, indent, inline)
        return rendered if key is None else f"{json.dumps(key, ensure_ascii=False)}: {rendered}"

    # ---- edits -----------------------------------------------------------------------------

    def fresh(self, data: Any) -> str:
        """The value for a file that holds none yet, after its comments if it has some."""
        kept = self.text if self.text.strip(" \t\r\n\ufeff") else ""
        if kept and not kept.endswith("\n"):
            kept += self.newline
        dumped = json.dumps(data, indent=self.unit, ensure_ascii=False)
        return kept + dumped.replace("\n", self.newline) + self.newline

    def replace_value(self, container: Node, entry: Entry, value: Any) -> str:
        inline = self.on_one_line(container)
        indent = self.indent_of(entry.start)
        rendered = self.render(value, indent, inline)
        return self.apply([(entry.node.start, entry.node.end, rendered)])

    def insert(self, container: Node, key: str | None, value: Any) -> str:
        """Add an entry at the end of ``container`` (an object member, or an item if no key)."""
        opening, closing = container.start, container.end - 1
        inline = self.on_one_line(container)
        if not container.entries:
            outer = self.indent_of(opening)
            indent = outer + self.unit
            new = self.entry_text(key, value, indent, inline=False)
            interior = self.text[opening + 1 : closing]
            if interior.strip(" \t\r\n") == "":
                return self.apply(
                    [(opening + 1, closing, self.newline + indent + new + self.newline + outer)]
                )
            return self.apply([(opening + 1, opening + 1, self.newline + indent + new)])
        first, last = container.entries[0], container.entries[-1]
        if inline:
            new = self.entry_text(key, value, "", inline=True)
            if last.comma is not None:
                return self.apply([(last.comma + 1, last.comma + 1, f" {new},")])
            return self.apply([(last.node.end, last.node.end, f", {new}")])
        if self.starts_line(first.start):
            indent = self.indent_of(first.start)
        else:
            indent = self.indent_of(opening) + self.unit
        new = self.entry_text(key, value, indent, inline=False)
        trailing = last.comma is not None
        anchor = last.comma + 1 if last.comma is not None else last.node.end
        line_end = self.end_of_line(anchor)
        where = anchor if line_end is None else line_end
        added = self.newline + indent + new + ("," if trailing else "")
        if trailing:
            return self.apply([(where, where, added)])
        if where == anchor:
            return self.apply([(anchor, anchor, "," + added)])
        return self.apply([(anchor, anchor, ","), (where, where, added)])

    def cut(self, container: Node, entry: Entry) -> str:
        """Remove ``entry`` from ``container``, with its line when it has one to itself."""
        entries = container.entries
        index = next(i for i, candidate in enumerate(entries) if candidate is entry)
        previous = entries[index - 1] if index > 0 else None
        stop = entry.comma + 1 if entry.comma is not None else entry.node.end
        line_end = self.end_of_line(stop)
        edits: list[Edit]
        if (
            not self.on_one_line(container)
            and self.starts_line(entry.start)
            and line_end is not None
        ):
            cut_from = self.line_start(entry.start)
            cut_to = line_end + (2 if self.text.startswith("\r\n", line_end) else 1)
            edits = [(cut_from, min(cut_to, len(self.text)), "")]
            last_without_comma = index == len(entries) - 1 and entry.comma is None
            if last_without_comma and previous is not None and previous.comma is not None:
                edits.append((previous.comma, previous.comma + 1, ""))
        elif index + 1 < len(entries):
            edits = [(entry.start, entries[index + 1].start, "")]
        elif previous is not None and previous.comma is not None:
            edits = [(previous.comma, entry.comma if entry.comma is not None else stop, "")]
        else:
            edits = [(entry.start, stop, "")]
        if len(entries) == 1:
            opening, closing = container.start, container.end - 1
            remaining = self.text[opening + 1 : edits[0][0]] + self.text[edits[0][1] : closing]
            if remaining.strip(" \t\r\n") == "":
                edits = [(opening + 1, closing, "")]
        return self.apply(edits)

    def apply(self, edits: list[Edit]) -> str:
        text = self.text
        for start, end, replacement in sorted(edits, reverse=True):
            text = text[:start] + replacement + text[end:]
        return text
