"""Splicing one entry into JSON text: the file's own layout for the new text, nothing else moved."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from multichat.clients.errors import InvalidClientFile
from multichat.clients.json_splice import append_item, remove_item, remove_member, set_member
from multichat.clients.jsonc import JSONC, PLAIN_JSON, parse

ENTRY = {"command": "uv", "args": ["run"]}
KEYS = ("mcpServers", "new")


def data(text: str) -> Any:
    root = parse(text, "f.json", JSONC)
    return root.value if root is not None else None


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("", '{\n  "mcpServers": {\n    "new": 1\n  }\n}\n'),
        ("{}", '{\n  "mcpServers": {\n    "new": 1\n  }\n}'),
        ('{"mcpServers": {}}', '{"mcpServers": {\n  "new": 1\n}}'),
        ('{"a": 1}', '{"a": 1, "mcpServers": {"new": 1}}'),
        ('{"mcpServers": {"x": 2}}', '{"mcpServers": {"x": 2, "new": 1}}'),
        ('{"mcpServers": {"x": 2,}}', '{"mcpServers": {"x": 2, "new": 1,}}'),
        ('{\n\t"a": 1\n}', '{\n\t"a": 1,\n\t"mcpServers": {\n\t\t"new": 1\n\t}\n}'),
        ('{\r\n  "a": 1\r\n}', '{\r\n  "a": 1,\r\n  "mcpServers": {\r\n    "new": 1\r\n  }\r\n}'),
        ('{\n  "a": 1, // one\n}', '{\n  "a": 1, // one\n  "mcpServers": {\n    "new": 1\n  },\n}'),
        ('{\n  "a": 1 // one\n}', '{\n  "a": 1, // one\n  "mcpServers": {\n    "new": 1\n  }\n}'),
        ('{\n  "a": 1}', '{\n  "a": 1,\n  "mcpServers": {\n    "new": 1\n  }}'),
        ("{\n  // none yet\n}", '{\n  "mcpServers": {\n    "new": 1\n  }\n  // none yet\n}'),
        ('{"mcpServers": {"new": {"old": true}}}', '{"mcpServers": {"new": 1}}'),
        ("// to do\n", '// to do\n{\n  "mcpServers": {\n    "new": 1\n  }\n}\n'),
        ("/* x */", '/* x */\n{\n  "mcpServers": {\n    "new": 1\n  }\n}\n'),
    ],
)
def test_set_member_writes_in_the_file_s_style(before: str, after: str) -> None:
    assert set_member(before, "f.json", JSONC, KEYS, 1) == after


def test_a_replaced_value_is_indented_like_its_key() -> None:
    before = '{\n    "mcpServers": {\n        "new": {"old": 1},\n        "z": 0\n    }\n}\n'
    after = set_member(before, "f.json", PLAIN_JSON, KEYS, {"a": [1]})
    assert after == (
        '{\n    "mcpServers": {\n        "new": {\n            "a": [\n                1\n'
        '            ]\n        },\n        "z": 0\n    }\n}\n'
    )


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ('{"mcpServers": {"new": 1}}', '{"mcpServers": {}}'),
        ('{"mcpServers": {"new": 1, "b": 2}}', '{"mcpServers": {"b": 2}}'),
        ('{"mcpServers": {"a": 0, "new": 1}}', '{"mcpServers": {"a": 0}}'),
        ('{"mcpServers": {"a": 0, "new": 1,}}', '{"mcpServers": {"a": 0,}}'),
        (
            '{\n  "mcpServers": {\n    "a": 0,\n    "new": 1\n  }\n}',
            '{\n  "mcpServers": {\n    "a": 0\n  }\n}',
        ),
        (
            '{\n  "mcpServers": {\n    "new": 1, // mine\n    "b": 2\n  }\n}',
            '{\n  "mcpServers": {\n    "b": 2\n  }\n}',
        ),
        ('{\n  "mcpServers": {\n    "new": 1\n  }\n}', '{\n  "mcpServers": {}\n}'),
        (
            '{\n  "mcpServers": {\n    "a": 0,\n    "new": 1}\n}',
            '{\n  "mcpServers": {\n    "a": 0}\n}',
        ),
    ],
)
def test_remove_member_takes_the_entry_and_its_comma(before: str, after: str) -> None:
    assert remove_member(before, "f.json", JSONC, KEYS) == after


def test_remove_member_of_an_absent_key_is_none() -> None:
    assert remove_member("", "f.json", JSONC, KEYS) is None
    assert remove_member('{"a": 1}', "f.json", JSONC, KEYS) is None
    assert remove_member('{"mcpServers": {"b": 1}}', "f.json", JSONC, KEYS) is None


def test_array_items_are_appended_and_removed_in_place() -> None:
    before = '{\n  "inputs": [\n    {"id": "a"}\n  ]\n}\n'
    added = append_item(before, "f.json", JSONC, ("inputs",), {"id": "b"})
    assert added == '{\n  "inputs": [\n    {"id": "a"},\n    {\n      "id": "b"\n    }\n  ]\n}\n'
    assert remove_item(added, "f.json", JSONC, ("inputs",), 1) == before
    assert append_item("{}", "f.json", JSONC, ("inputs",), 1) == '{\n  "inputs": [\n    1\n  ]\n}'


def test_an_item_that_is_not_there_is_refused() -> None:
    with pytest.raises(InvalidClientFile, match=r"`inputs` has no item 3"):
        remove_item('{"inputs": []}', "f.json", JSONC, ("inputs",), 3)


# ---- every other byte, for any file: add then remove gives back the text ------------------

names = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=6)
scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=6)
values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(names, children, max_size=3),
    max_leaves=8,
)
documents = st.fixed_dictionaries(
    {"mcpServers": st.dictionaries(names.filter(lambda name: name != "new"), values, max_size=3)},
    optional={"theme": values, "general": st.dictionaries(names, values, max_size=3)},
)
layouts = st.sampled_from([None, 0, 1, 2, 4, "\t"])


@given(document=documents, indent=layouts, crlf=st.booleans(), entry=values)
def test_adding_then_removing_an_entry_restores_every_byte(
    document: dict[str, Any], indent: Any, crlf: bool, entry: Any
) -> None:
    text = json.dumps(document, indent=indent, ensure_ascii=False)
    if crlf:
        text = text.replace("\n", "\r\n")

    added = set_member(text, "f.json", PLAIN_JSON, KEYS, entry)

    expected = json.loads(text)
    expected["mcpServers"]["new"] = entry
    assert json.loads(added) == expected
    assert remove_member(added, "f.json", PLAIN_JSON, KEYS) == text
