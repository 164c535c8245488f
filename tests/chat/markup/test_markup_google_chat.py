"""Google Chat text both ways; rules from https://developers.google.com/workspace/chat/format-messages."""

from __future__ import annotations

import pytest

from multichat.chat.markup.google_chat import from_google_chat, to_google_chat


@pytest.mark.parametrize(
    ("markdown", "text"),
    [
        ("**bold** *italic* ~~gone~~", "*bold* _italic_ ~gone~"),
        ("`code`", "`code`"),
        ("```\nline 1\nline 2\n```", "```\nline 1\nline 2\n```"),
        ("[Example website](https://example.com)", "<https://example.com|Example website>"),
        ("<https://example.com>", "<https://example.com>"),
        ("hi <users/123> and <users/all>", "hi <users/123> and <users/all>"),
        ("- first\n- second", "* first\n* second"),
        ("# Heading", "*Heading*"),
        ("> quoted", "> quoted"),
        ("a < b & c", "a < b & c"),
    ],
)
def test_to_google_chat_follows_the_chat_syntax(markdown: str, text: str) -> None:
    assert to_google_chat(markdown) == text


@pytest.mark.parametrize(
    ("text", "markdown"),
    [
        ("hi <users/123>", "hi @Ada Lovelace"),
        ("hi <users/404>", "hi @users/404"),
        ("<users/all> standup!", "@all standup!"),
        ("<https://example.com|Example website>", "[Example website](https://example.com)"),
        ("*bold* _italic_ ~gone~", "**bold** *italic* ~~gone~~"),
        ("* first\n* second *b*", "* first\n* second **b**"),
        ("`<users/123>`", "`<users/123>`"),
        ("1 < 2 > 0 <not a link>", "1 < 2 > 0 <not a link>"),
    ],
)
def test_from_google_chat_reads_formatted_text(text: str, markdown: str) -> None:
    assert from_google_chat(text, {"users/123": "Ada Lovelace"}.get) == markdown


@pytest.mark.parametrize(
    "markdown",
    ["**Lunch** at *noon*, see [menu](https://x.org/menu)", "`code` and ~~struck~~"],
)
def test_markdown_survives_a_round_trip_through_google_chat(markdown: str) -> None:
    assert from_google_chat(to_google_chat(markdown)) == markdown
