"""Set or remove one entry of a top-level YAML mapping, keeping every other byte of the file.

ruamel.yaml parses the file round-trip and says on which line each key starts; the entry's lines
are then replaced, inserted or cut as text, in the file's own indentation, so comments, quoting
and key order elsewhere stay as the user (or the client) wrote them. The result is parsed again
and must mean the old data with exactly that one change. This is the approach of
``multichat.generator.config_edit`` for ``provider-config.yaml``, for any section name.
"""

from __future__ import annotations

import copy
import io
import re
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap

from multichat.clients.errors import InvalidClientFile
from multichat.yaml_documents import read_yaml_document, to_plain

DEFAULT_STEP = 2


def read_document(text: str, source: str) -> Any:
    """Parse ``text`` round-trip; a problem is one line naming file, line and column."""
    return read_yaml_document(
        text, source, error=InvalidClientFile, fix="fix the file (it was left unchanged)"
    )


def set_entry(text: str, source: str, section: str, name: str, value: dict[str, Any]) -> str:
    """Return ``text`` with ``section.name`` set to ``value`` (added, or its lines replaced)."""
    edit = _Edit(text, source, section)
    expected = copy.deepcopy(edit.plain)
    expected[section] = {**(expected.get(section) or {}), name: value}
    if edit.entries is not None and name in edit.entries:
        start, end = edit.entry_lines(name)
        column = int(edit.entries.lc.key(name)[1])
        new_text = edit.splice(start, end, edit.render(name, value, column))
    elif edit.entries:
        column = int(edit.entries.lc.key(next(iter(edit.entries)))[1])
        end = edit.entry_lines(list(edit.entries)[-1])[1]
        new_text = edit.splice(end, end, edit.render(name, value, column))
    else:
        new_text = edit.open_section(edit.render(name, value, edit.step))
    return _verified(new_text, source, expected)


def remove_entry(text: str, source: str, section: str, name: str) -> str | None:
    """Return ``text`` without ``section.name``, or ``None`` when the file does not hold it."""
    edit = _Edit(text, source, section)
    if edit.entries is None or name not in edit.entries:
        return None
    expected = copy.deepcopy(edit.plain)
    del expected[section][name]
    start, end = edit.entry_lines(name)
    new_text = edit.splice(start, end, "")
    if not expected[section]:
        new_text = edit.close_section(new_text)
    return _verified(new_text, source, expected)


def _verified(new_text: str, source: str, expected: Any) -> str:
    try:
        got = to_plain(read_document(new_text, source))
    except InvalidClientFile:
        got = None
    if got != expected:
        raise InvalidClientFile(
            f"{source}: multichat could not edit this file's layout without changing other "
            "values; the file was left unchanged (please report it)"
        )
    return new_text


_ODD_LINE_BREAK = re.compile("[\x85\u2028\u2029]|\r(?!\n)")


def _refuse_odd_line_breaks(text: str, source: str) -> None:
    """YAML also breaks lines at these; the line numbers would not match ours (``_lines``)."""
    match = _ODD_LINE_BREAK.search(text)
    if match is not None:
        line = text.count("\n", 0, match.start()) + 1
        raise InvalidClientFile(
            f"{source}:{line}: holds a line break other than \\n or \\r\\n (a lone \\r, "
            "U+0085, U+2028 or U+2029); multichat cannot edit it safely"
        )


def _lines(text: str) -> list[str]:
    """``text`` cut after each newline only (``str.splitlines`` also cuts at other breaks)."""
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    return [*lines, parts[-1]] if parts[-1] else lines


_EMPTY_SECTION = r"^(?P<key>{key}:)(?:[ \t]*(?:\{{[ \t]*\}}|~|null))?(?P<rest>[ \t]*(?:#.*)?)$"


class _Edit:
    """One file's lines, its parsed document and the section being edited."""

    def __init__(self, text: str, source: str, section: str) -> None:
        self.source = source
        self.section = section
        self.document = read_document(text, source)
        _refuse_odd_line_breaks(text, source)
        self.lines = _lines(text)
        self.newline = "\r\n" if "\r\n" in text else "\n"
        if self.document is not None and not isinstance(self.document, CommentedMap):
            raise InvalidClientFile(f"{source}:1: the file must be a YAML mapping (key: value)")
        if self.document is not None and self.document.fa.flow_style():
            raise InvalidClientFile(f"{source}:1: {self._flow_refusal('the file')}")
        self.plain: dict[str, Any] = to_plain(self.document) if self.document is not None else {}
        entries = self.document.get(section) if self.document is not None else None
        if entries is not None and not isinstance(entries, CommentedMap):
            raise InvalidClientFile(
                f"{source}:{self.key_line() + 1}: `{section}` must be a mapping"
            )
        if isinstance(entries, CommentedMap) and entries and entries.fa.flow_style():
            raise InvalidClientFile(
                f"{source}:{self.key_line() + 1}: {self._flow_refusal(f'`{section}`')}"
            )
        self.entries: CommentedMap | None = entries
        self.step = self._step()

    def _flow_refusal(self, what: str) -> str:
        return (
            f"{what} is written in flow style {{...}}; write it as a block (one key per line) "
            "or add the entry by hand"
        )

    def key_line(self) -> int:
        return int(self.document.lc.key(self.section)[0])

    def _step(self) -> int:
        """The file's indentation step: the column of the first key nested under a top key."""
        for value in (self.document or {}).values():
            if isinstance(value, CommentedMap) and value and not value.fa.flow_style():
                return int(value.lc.key(next(iter(value)))[1]) or DEFAULT_STEP
        return DEFAULT_STEP

    def render(self, name: str, value: dict[str, Any], column: int) -> str:
        """``name: value`` as block YAML at ``column``, nested by the file's step."""
        yaml = YAML(typ="rt")
        yaml.width = 4096  # never fold a long path or argument onto a second line
        yaml.indent(mapping=self.step, sequence=self.step, offset=max(self.step - 2, 0))
        buffer = io.StringIO()
        yaml.dump({name: value}, buffer)
        prefix = " " * column
        return "".join(prefix + line + self.newline for line in buffer.getvalue().splitlines())

    def entry_lines(self, name: str) -> tuple[int, int]:
        """The lines ``[start, end)`` of ``section.name``.

        Blank lines and comments at its own indentation or less that follow it are left out:
        they belong to what comes next.
        """
        assert self.entries is not None
        keys = list(self.entries)
        start, column = (int(part) for part in self.entries.lc.key(name))
        position = keys.index(name)
        if position + 1 < len(keys):
            end = int(self.entries.lc.key(keys[position + 1])[0])
        else:
            end = self._section_end()
        while end > start + 1:
            line = self.lines[end - 1]
            stripped = line.strip()
            indent = len(line) - len(line.lstrip(" "))
            if stripped == "" or (stripped.startswith("#") and indent <= column):
                end -= 1
                continue
            break
        return start, end

    def _section_end(self) -> int:
        assert self.document is not None
        keys = list(self.document)
        position = keys.index(self.section)
        if position + 1 < len(keys):
            return int(self.document.lc.key(keys[position + 1])[0])
        return len(self.lines)

    def splice(self, start: int, end: int, new: str) -> str:
        lines = list(self.lines)
        if lines and not lines[-1].endswith("\n") and end == len(lines):
            lines[-1] += self.newline
        return "".join(lines[:start]) + new + "".join(lines[end:])

    def open_section(self, rendered: str) -> str:
        """Put the first entry under the section key, adding the key if the file lacks it."""
        lines = list(self.lines)
        if lines and not lines[-1].endswith("\n"):
            lines[-1] += self.newline
        if self.document is None or self.section not in self.document:
            return "".join(lines) + f"{self.section}:{self.newline}" + rendered
        line = self.key_line()
        empty = re.compile(_EMPTY_SECTION.format(key=re.escape(self.section)))
        match = empty.match(lines[line].rstrip("\r\n"))
        if match is None or int(self.document.lc.key(self.section)[1]) != 0:
            raise InvalidClientFile(
                f"{self.source}:{line + 1}: cannot add to `{self.section}` as written; "
                f"make it `{self.section}:` on a line of its own"
            )
        lines[line] = f"{match['key']}{match['rest']}{self.newline}"
        return "".join(lines[: line + 1]) + rendered + "".join(lines[line + 1 :])

    def close_section(self, text: str) -> str:
        """After the last entry went: write ``section: {}`` so the section stays a mapping."""
        lines = _lines(text)
        line = self.key_line()
        empty = re.compile(_EMPTY_SECTION.format(key=re.escape(self.section)))
        match = empty.match(lines[line].rstrip("\r\n"))
        if match is None:
            return text
        lines[line] = f"{match['key']} {{}}{match['rest']}{self.newline}"
        return "".join(lines)
