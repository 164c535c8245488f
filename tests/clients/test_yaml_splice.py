"""Splicing one Goose extension into YAML text: comments, quoting and order elsewhere kept."""

from __future__ import annotations

import io
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from ruamel.yaml import YAML

from multichat.clients.errors import InvalidClientFile
from multichat.clients.yaml_splice import remove_entry, set_entry

ENTRY = {"name": "chat", "cmd": "uv", "args": ["run", "--directory", "/w s"]}
ENTRY_TEXT = (
    "  chat:\n    name: chat\n    cmd: uv\n    args:\n    - run\n    - --directory\n    - /w s\n"
)


def load(text: str) -> object:
    return YAML(typ="safe").load(text)


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("", "extensions:\n" + ENTRY_TEXT),
        ("# only a comment", "# only a comment\nextensions:\n" + ENTRY_TEXT),
        ("GOOSE_MODE: auto\n", "GOOSE_MODE: auto\nextensions:\n" + ENTRY_TEXT),
        ("extensions:  # mine\nX: 1\n", "extensions:  # mine\n" + ENTRY_TEXT + "X: 1\n"),
        ("extensions: {}\nX: 1\n", "extensions:\n" + ENTRY_TEXT + "X: 1\n"),
        ("extensions: null\n", "extensions:\n" + ENTRY_TEXT),
    ],
)
def test_the_first_extension_opens_the_section(before: str, after: str) -> None:
    assert set_entry(before, "config.yaml", "extensions", "chat", ENTRY) == after


def test_a_new_extension_follows_the_last_one_before_trailing_comments() -> None:
    before = (
        "extensions:\n"
        "    developer:\n"
        "        enabled: true   # on\n"
        "        args:\n"
        "            - 'a'\n"
        "\n"
        "# next section\n"
        "X: 1\n"
    )
    after = set_entry(before, "config.yaml", "extensions", "chat", ENTRY)
    assert after == (
        "extensions:\n"
        "    developer:\n"
        "        enabled: true   # on\n"
        "        args:\n"
        "            - 'a'\n"
        "    chat:\n"
        "        name: chat\n"
        "        cmd: uv\n"
        "        args:\n"
        "          - run\n"
        "          - --directory\n"
        "          - /w s\n"
        "\n"
        "# next section\n"
        "X: 1\n"
    )
    assert remove_entry(after, "config.yaml", "extensions", "chat") == before


def test_an_existing_extension_is_replaced_where_it_is() -> None:
    before = "extensions:\n  chat:\n    cmd: old  # old one\n  other:\n    cmd: x\n"
    after = set_entry(before, "config.yaml", "extensions", "chat", ENTRY)
    assert after == "extensions:\n" + ENTRY_TEXT + "  other:\n    cmd: x\n"


def test_removing_the_last_extension_leaves_an_empty_mapping() -> None:
    before = "# keep\nextensions:  # all of them\n" + ENTRY_TEXT + "X: 1\n"
    after = remove_entry(before, "config.yaml", "extensions", "chat")
    assert after == "# keep\nextensions: {}  # all of them\nX: 1\n"
    assert load(after) == {"extensions": {}, "X": 1}


def test_crlf_files_stay_crlf() -> None:
    before = "extensions:\r\n  a:\r\n    cmd: x\r\n"
    after = set_entry(before, "config.yaml", "extensions", "chat", ENTRY)
    assert "\n" not in after.replace("\r\n", "")
    assert remove_entry(after, "config.yaml", "extensions", "chat") == before


def test_an_absent_extension_is_none() -> None:
    assert remove_entry("", "config.yaml", "extensions", "chat") is None
    assert remove_entry("extensions:\n  a: {}\n", "config.yaml", "extensions", "chat") is None


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("- a\n- b\n", "config.yaml:1: the file must be a YAML mapping"),
        ("{extensions: {}}\n", "config.yaml:1: the file is written in flow style"),
        ("X: 1\nextensions: [a]\n", "config.yaml:2: `extensions` must be a mapping"),
        ("extensions: {a: {cmd: x}}\n", "config.yaml:1: `extensions` is written in flow style"),
        ("extensions: &x {}\n", "config.yaml:1: cannot add to `extensions` as written"),
        ("a: [\n", "config.yaml:2:1: "),
        ("a: 1\nb: 'x\u2028y'\n", "config.yaml:2: holds a line break other than"),
        ("a: 1\rb: 2\n", "config.yaml:1: holds a line break other than"),
    ],
)
def test_layouts_it_cannot_edit_exactly_are_refused(text: str, problem: str) -> None:
    with pytest.raises(InvalidClientFile) as caught:
        set_entry(text, "config.yaml", "extensions", "chat", ENTRY)
    assert str(caught.value).startswith(problem)


# ---- every other byte, for any file: add then remove gives back the text ------------------

keys = st.text(st.characters(categories=("L", "N")), min_size=1, max_size=6)
# Raw U+0085, U+2028 and U+2029 are line breaks to YAML: such files are refused (below).
texts = st.text(st.characters(exclude_characters="\x85\u2028\u2029"), max_size=8)
scalars = st.none() | st.booleans() | st.integers() | texts
values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(keys, children, max_size=3),
    max_leaves=8,
)
documents = st.fixed_dictionaries(
    {"extensions": st.dictionaries(keys.filter(lambda key: key != "chat"), values, max_size=3)},
    optional={"GOOSE_MODE": scalars, "providers": st.dictionaries(keys, values, max_size=2)},
)


@given(document=documents, step=st.sampled_from([2, 4]))
def test_adding_then_removing_an_extension_restores_every_byte(
    document: dict[str, Any], step: int
) -> None:
    yaml = YAML(typ="rt")
    yaml.indent(mapping=step, sequence=step, offset=step - 2)
    buffer = io.StringIO()
    yaml.dump(document, buffer)
    text = buffer.getvalue()

    added = set_entry(text, "config.yaml", "extensions", "chat", ENTRY)

    assert load(added) == {**document, "extensions": {**document["extensions"], "chat": ENTRY}}
    assert remove_entry(added, "config.yaml", "extensions", "chat") == text
