"""The positional JSON parser: json.loads's values, each dialect's rules, clear errors."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from multichat.clients.errors import InvalidClientFile
from multichat.clients.jsonc import JSON_WITH_COMMENTS, JSONC, PLAIN_JSON, parse

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@given(value=json_values, indent=st.sampled_from([None, 0, 2, "\t"]), ascii_only=st.booleans())
def test_plain_json_means_what_json_loads_says(value: Any, indent: Any, ascii_only: bool) -> None:
    text = json.dumps(value, indent=indent, ensure_ascii=ascii_only)
    root = parse(text, "f.json", PLAIN_JSON)
    assert root is not None
    assert root.value == json.loads(text)
    assert (root.start, root.end) == (0, len(text))


def test_entries_know_their_offsets_and_commas() -> None:
    text = '{"a": [1, 2], "b": {"c": null}}'
    root = parse(text, "f.json", PLAIN_JSON)
    assert root is not None
    first, second = root.entries
    assert text[first.start : first.node.end] == '"a": [1, 2]'
    assert first.comma == text.index(', "b"')
    assert second.comma is None
    assert text[second.node.start : second.node.end] == '{"c": null}'
    assert [text[item.start : item.node.end] for item in first.node.entries] == ["1", "2"]


def test_comment_markers_inside_strings_are_text() -> None:
    text = '{"url": "http://x/*y*/", "c": "//"} // real comment\n'
    root = parse(text, "f.json", JSONC)
    assert root is not None
    assert root.value == {"url": "http://x/*y*/", "c": "//"}


def test_jsonc_takes_comments_and_trailing_commas() -> None:
    text = '/* head */ {\n  "a": [1, 2,], // one\n  "b": 3,\n}\n// tail'
    root = parse(text, "f.json", JSONC)
    assert root is not None
    assert root.value == {"a": [1, 2], "b": 3}


def test_a_blank_or_comment_only_file_holds_no_value() -> None:
    assert parse(" \n\t", "f.json", PLAIN_JSON) is None
    assert parse("// nothing yet\n", "f.json", JSONC) is None
    assert parse("\ufeff{}", "f.json", PLAIN_JSON) is not None


@pytest.mark.parametrize(
    ("text", "dialect", "where", "problem"),
    [
        ('{\n  "a": 1 // x\n}', PLAIN_JSON, "2:10", "comments are not allowed here"),
        ('{"a": 1,}', JSON_WITH_COMMENTS, "1:8", "a comma before '}' is not allowed"),
        ("[1,]", PLAIN_JSON, "1:3", "a comma before ']' is not allowed"),
        ('{"a" 1}', JSONC, "1:6", "expected ':' after the key"),
        ("{'a': 1}", JSONC, "1:2", "expected a double-quoted key"),
        ('{"a": 01}', JSONC, "1:8", "expected a ',' or '}'"),
        ('{"a": "b\nc"}', JSONC, "1:7", "a string is not closed"),
        ('{"a": tru}', JSONC, "1:7", "unexpected 't' where a value should be"),
        ("{} {}", JSONC, "1:4", "unexpected text after the end"),
        ('{"a": 1 /* open', JSONC, "1:9", "a /* comment is never closed"),
        ('{"a":', JSONC, "1:6", "the file ends where a value should be"),
        ("NaN", JSONC, "1:1", "unexpected 'N'"),
    ],
)
def test_errors_name_file_line_and_column(
    text: str, dialect: Any, where: str, problem: str
) -> None:
    with pytest.raises(InvalidClientFile) as caught:
        parse(text, "/home/me/f.json", dialect)
    message = str(caught.value)
    assert message.startswith(f"/home/me/f.json:{where}: {problem}")
    assert message.endswith("fix the file (it was left unchanged)")


def test_absurd_nesting_is_refused_not_crashed() -> None:
    with pytest.raises(InvalidClientFile, match=r"nested too deeply"):
        parse("[" * 5000 + "]" * 5000, "f.json", PLAIN_JSON)
