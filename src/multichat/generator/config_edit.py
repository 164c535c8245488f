"""Add a provider entry to ``provider-config.yaml`` without disturbing the rest of the file.

ruamel.yaml parses the user's file round-trip and tells where the ``providers:`` block ends; the
new entry (rendered by the template, comments included) is inserted there as text, re-indented to
the file's own indentation, so every other byte of the file stays as the user wrote it. The result
is parsed again and must equal the old data plus the new entry. Layouts that cannot take a text
insertion (a flow-style mapping, say) fall back to a plain ruamel round-trip dump, which turns
that mapping into block style. Line endings, the final newline and the text around the
document (a ``---`` prelude, a ``...`` end) are kept by :func:`~multichat.yaml_layout.keep_layout`.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap

from multichat.errors import ConfigError, GenerationError
from multichat.runtime.config import parse_config
from multichat.yaml_documents import read_yaml_document, to_plain
from multichat.yaml_layout import keep_layout

#: ``providers:`` spelled empty on its own line (``{}``, ``~``, ``null``): the value goes, so
#: entries can follow as a block. Removing the last entry leaves ``providers:`` (null too).
_EMPTY_VALUE = re.compile(
    r"^(?P<key>providers:)[ \t]*(\{[ \t]*\}|~|null|Null|NULL)(?P<rest>[ \t]*(#.*)?)$"
)


def add_provider_entry(text: str, path: Path, name: str, entry_text: str) -> str:
    """Return ``text`` with ``entry_text`` (a one-key YAML mapping ``NAME: {...}``) added."""
    return keep_layout(text, lambda body: _add(body, path, name, entry_text))


def _add(text: str, path: Path, name: str, entry_text: str) -> str:
    document = read_yaml_document(text, path)
    entry = read_yaml_document(entry_text, Path(f"<{name} entry>"))
    if not isinstance(entry, Mapping) or list(entry) != [name]:
        raise GenerationError(f"the template's entry for {name} is not a `{name}:` mapping")
    if document is not None and not isinstance(document, Mapping):
        raise ConfigError(f"{path}:1: the file must be a mapping with a `providers:` key")
    providers = document.get("providers") if document is not None else None
    if providers is not None and not isinstance(providers, Mapping):
        raise ConfigError(f"{path}: `providers` must be a mapping of name to settings")
    if providers is not None and name in providers:
        raise ConfigError(f"{path}: `providers.{name}` exists already")

    expected = to_plain(document) if document is not None else {}
    expected.setdefault("providers", None)
    expected["providers"] = {**(expected["providers"] or {}), name: to_plain(entry[name])}

    candidate = _insert_as_text(text, document, entry_text)
    if candidate is None or not _means(candidate, path, expected):
        candidate = _round_trip_dump(text, path, name, entry_text)
        if not _means(candidate, path, expected):
            raise GenerationError(f"could not add {name} to {path} without changing other keys")
    parse_config(candidate, path)
    return candidate


def _means(candidate: str, path: Path, expected: Any) -> bool:
    try:
        return bool(to_plain(read_yaml_document(candidate, path)) == expected)
    except ConfigError:
        return False


def _insert_as_text(text: str, document: Any, entry_text: str) -> str | None:
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    if document is None or "providers" not in document:
        return "".join(lines) + "providers:\n" + _indent(entry_text, 2, 2)
    providers = document["providers"]
    key_line = document.lc.key("providers")[0]
    if providers is None or (isinstance(providers, CommentedMap) and not providers):
        match = _EMPTY_VALUE.match(lines[key_line].rstrip("\n"))
        if providers is not None and match is None:
            return None
        if match is not None:
            lines[key_line] = f"{match['key']}{match['rest']}\n"
        end = _block_end(lines, document, "providers")
        return "".join(lines[:end]) + _indent(entry_text, 2, 2) + "".join(lines[end:])
    if not isinstance(providers, CommentedMap) or providers.fa.flow_style():
        return None
    first = next(iter(providers))
    column = providers.lc.key(first)[1]
    sequence_offset = _sequence_offset(providers)
    end = _block_end(lines, document, "providers")
    return (
        "".join(lines[:end]) + _indent(entry_text, column, sequence_offset) + "".join(lines[end:])
    )


def _block_end(lines: list[str], document: CommentedMap, key: str) -> int:
    """Index of the line just past ``key``'s block, before trailing blank and top-level comments."""
    keys = list(document)
    position = keys.index(key)
    end = document.lc.key(keys[position + 1])[0] if position + 1 < len(keys) else len(lines)
    while end > document.lc.key(key)[0] + 1:
        previous = lines[end - 1]
        stripped = previous.strip()
        if stripped == "" or (stripped.startswith("#") and not previous[:1].isspace()):
            end -= 1
            continue
        break
    return end


def _sequence_offset(providers: CommentedMap) -> int:
    """How far the file indents ``- item`` under its key (0 or more), found from its first list."""
    for entry in providers.values():
        if not isinstance(entry, CommentedMap):
            continue
        for key, value in entry.items():
            if isinstance(value, list) and value and hasattr(value, "lc"):
                item_column = int(value.lc.item(0)[1])
                return max(item_column - 2 - int(entry.lc.key(key)[1]), 0)
    return 2


def _indent(entry_text: str, column: int, sequence_offset: int) -> str:
    """Re-indent the template's entry (2-space mappings, lists at offset 2) to the file's style."""
    out = []
    for line in entry_text.splitlines():
        if not line.strip():
            out.append("\n")
            continue
        stripped = line.lstrip(" ")
        depth, extra = divmod(len(line) - len(stripped), 2)
        if stripped.startswith("- "):
            # the template writes lists at offset 2: one extra level that the file may not use
            depth -= 1
            prefix = " " * (column * (depth + 1) + sequence_offset)
        else:
            prefix = " " * (column * (depth + 1) + extra)
        out.append(prefix + stripped + "\n")
    return "".join(out)


def _round_trip_dump(text: str, path: Path, name: str, entry_text: str) -> str:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    document = yaml.load(text) if text.strip() else CommentedMap()
    entry = yaml.load(entry_text)
    providers = document.get("providers")
    if providers is None:
        providers = document["providers"] = CommentedMap()
    providers.fa.set_block_style()
    providers[name] = entry[name]
    buffer = io.StringIO()
    yaml.dump(document, buffer)
    return buffer.getvalue()


def remove_provider_entry(text: str, path: Path, name: str) -> str:
    """Return ``text`` without ``providers.NAME``: its lines go, every other byte stays."""
    return keep_layout(text, lambda body: _remove(body, path, name))


def _remove(text: str, path: Path, name: str) -> str:
    document = read_yaml_document(text, path)
    providers = document.get("providers") if isinstance(document, Mapping) else None
    if not isinstance(providers, Mapping) or name not in providers:
        raise ConfigError(f"{path}: there is no `providers.{name}` to remove")
    expected = to_plain(document)
    del expected["providers"][name]
    if not expected["providers"]:
        expected["providers"] = None
    candidate = _cut_as_text(text, document, name)
    if candidate is None or not _means(candidate, path, expected):
        candidate = _round_trip_delete(text, name)
        if not _means(candidate, path, expected) and not _means(
            candidate, path, {**expected, "providers": {}}
        ):
            raise GenerationError(f"could not remove {name} from {path} without other changes")
    parse_config(candidate, path)
    return candidate


def _cut_as_text(text: str, document: CommentedMap, name: str) -> str | None:
    providers = document["providers"]
    if not isinstance(providers, CommentedMap) or providers.fa.flow_style():
        return None
    lines = text.splitlines(keepends=True)
    keys = list(providers)
    position = keys.index(name)
    start = providers.lc.key(name)[0]
    if position + 1 < len(keys):
        end = providers.lc.key(keys[position + 1])[0]
        column = providers.lc.key(keys[position + 1])[1]
        # comments just above the next entry, at its indentation, belong to it
        while end - 1 > start and lines[end - 1].strip().startswith("#"):
            indent = len(lines[end - 1]) - len(lines[end - 1].lstrip(" "))
            if indent != column:
                break
            end -= 1
    else:
        end = _block_end(lines, document, "providers")
    return "".join(lines[:start] + lines[end:])


def _round_trip_delete(text: str, name: str) -> str:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    document = yaml.load(text)
    del document["providers"][name]
    buffer = io.StringIO()
    yaml.dump(document, buffer)
    return buffer.getvalue()
