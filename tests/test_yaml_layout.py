"""keep_layout: an edit of a YAML document's body comes back in the file's own layout."""

from __future__ import annotations

import pytest

from multichat.yaml_layout import keep_layout, split_document


def append_key(body: str) -> str:
    """An edit as config_edit makes them: LF lines, and a final newline it adds if missing."""
    return (body if body.endswith("\n") or not body else body + "\n") + "added: 1\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: 1\r\nb: 2\r\n", "a: 1\r\nb: 2\r\nadded: 1\r\n"),
        ("a: 1\nb: 2", "a: 1\nb: 2\nadded: 1"),
        ("a: 1\r\nb: 2", "a: 1\r\nb: 2\r\nadded: 1"),
        ("\ufeffa: 1\n", "\ufeffa: 1\nadded: 1\n"),
        ("", "added: 1\n"),
        (
            "%YAML 1.2\n# header\n---  # start\n# doc\na: 1\n...\n# after the end\n",
            "%YAML 1.2\n# header\n---  # start\n# doc\na: 1\nadded: 1\n...\n# after the end\n",
        ),
        ("---\r\na: 1\r\n...", "---\r\na: 1\r\nadded: 1\r\n..."),
        ("---", "---\nadded: 1"),
    ],
)
def test_the_layout_around_an_edit_is_kept(text: str, expected: str) -> None:
    assert keep_layout(text, append_key) == expected


def test_mixed_line_endings_are_left_to_the_edit() -> None:
    assert keep_layout("a: 1\r\nb: 2\n", append_key) == "a: 1\r\nb: 2\nadded: 1\n"


@pytest.mark.parametrize(
    "text",
    [
        "a: 1\n",
        "# comment\na: 1\n---\nb: 2\n",  # a marker after content starts a second document
        "--- {a: 1}\n",  # content on the marker's line stays in the body
        "a: 1\n...\n---\nb: 2\n",  # a document after the end marker
    ],
)
def test_no_prelude_or_epilogue_is_split_off_around_content(text: str) -> None:
    prelude, body, epilogue = split_document(text)

    assert (prelude, epilogue) == ("", "")
    assert body == text
