"""Zulip and Mattermost speak Markdown; only Zulip's mention syntax needs reading.

Syntax from https://zulip.com/help/mention-a-user-or-group and
https://zulip.com/help/link-to-a-message-or-conversation.
"""

from __future__ import annotations

import pytest

from multichat.chat.markup.mattermost import from_mattermost, to_mattermost
from multichat.chat.markup.zulip import from_zulip, to_zulip


@pytest.mark.parametrize(
    ("markdown", "content"),
    [
        ("**bold** _italic_ ~~gone~~", "**bold** *italic* ~~gone~~"),
        ("hi @**Ada Lovelace** and @_**Bob|3**", "hi @**Ada Lovelace** and @_**Bob|3**"),
        ("see #**design>logo**", "see #**design>logo**"),
        ("![whale](https://x.org/w.png)", "[whale](https://x.org/w.png)"),
        ("```python\nx = 1\n```", "```python\nx = 1\n```"),
    ],
)
def test_to_zulip_writes_zulip_markdown(markdown: str, content: str) -> None:
    assert to_zulip(markdown) == content


@pytest.mark.parametrize(
    ("content", "markdown"),
    [
        ("hi @**Ada Lovelace**", "hi @Ada Lovelace"),
        ("hi @**Ada Lovelace|12**", "hi @Ada Lovelace"),
        ("fyi @_**Bob**", "fyi @Bob"),
        ("ping @*support* and @_*ops*", "ping @support and @ops"),
        ("see #**design**", "see #design"),
        ("see #**design>logo**", "see #design > logo"),
        ("see #**design>logo@123**", "see #design > logo"),
        ("**bold** stays", "**bold** stays"),
        ("`@**Ada**` in code", "`@**Ada**` in code"),
    ],
)
def test_from_zulip_reads_mentions_and_stream_links(content: str, markdown: str) -> None:
    assert from_zulip(content) == markdown


def test_mattermost_passes_markdown_through_both_ways() -> None:
    text = "**hi** @ada, see [docs](https://x.org)\n\n- a\n- b"
    assert to_mattermost(text) == text
    assert from_mattermost(text) == text
