"""Slack mrkdwn both ways; rules from https://api.slack.com/reference/surfaces/formatting."""

from __future__ import annotations

import pytest

from multichat.chat.markup.slack import from_mrkdwn, to_mrkdwn

PEOPLE = {"U123": "Ada Lovelace"}
CHANNELS = {"C999": "random"}


@pytest.mark.parametrize(
    ("markdown", "mrkdwn"),
    [
        ("**bold** and __bold__", "*bold* and *bold*"),
        ("*italic* and _italic_", "_italic_ and _italic_"),
        ("~~gone~~", "~gone~"),
        ("`a < b`", "`a &lt; b`"),
        ("```python\nif a < b:\n    pass\n```", "```\nif a &lt; b:\n    pass\n```"),
        ("[docs](https://x.org/?a=1&b=2)", "<https://x.org/?a=1&amp;b=2|docs>"),
        ("<https://x.org>", "<https://x.org>"),
        ("<ada@example.org>", "<mailto:ada@example.org|ada@example.org>"),
        ("![chart](https://x.org/c.png)", "<https://x.org/c.png|chart>"),
        ("# Title with *style*", "*Title with _style_*"),
        ("## **Already bold**", "*Already bold*"),
        ("- one\n- two", "• one\n• two"),
        ("3. three\n4. four", "3. three\n4. four"),
        ("- outer\n  - inner", "• outer\n    • inner"),
        ("> quoted\n> more", "> quoted\n> more"),
        ("Tom & Jerry <3 > 2", "Tom &amp; Jerry &lt;3 &gt; 2"),
        ("<!here> <@U123>", "&lt;!here&gt; &lt;@U123&gt;"),
        ("first\nsecond", "first\nsecond"),
        ("para one\n\npara two", "para one\n\npara two"),
    ],
)
def test_to_mrkdwn_follows_slack_formatting(markdown: str, mrkdwn: str) -> None:
    assert to_mrkdwn(markdown) == mrkdwn


def test_to_mrkdwn_keeps_a_pipe_in_a_url_from_ending_the_link() -> None:
    assert to_mrkdwn("[x](https://x.org/a|b)") == "<https://x.org/a%7Cb|x>"


def test_to_mrkdwn_leaves_unsafe_links_as_text() -> None:
    assert "<" not in to_mrkdwn("[click](javascript:alert(1))")


@pytest.mark.parametrize(
    ("mrkdwn", "markdown"),
    [
        ("hi <@U123>", "hi @Ada Lovelace"),
        ("hi <@U404>", "hi @U404"),
        ("hi <@U404|ada>", "hi @ada"),
        ("in <#C123|general>", "in #general"),
        ("in <#C999>", "in #random"),
        ("in <#C404>", "in #C404"),
        ("<!here> <!channel> <!everyone>", "@here @channel @everyone"),
        ("<!subteam^S123|@devs>", "@devs"),
        ("<!date^1392734382^{date_short}|Feb 18, 2014>", "Feb 18, 2014"),
        ("<https://x.org|the site>", "[the site](https://x.org)"),
        ("<https://x.org>", "<https://x.org>"),
        ("<https://x.org/?a=1&amp;b=2|q>", "[q](https://x.org/?a=1&b=2)"),
        ("<mailto:ada@example.org|Ada>", "[Ada](mailto:ada@example.org)"),
        ("*bold* _it_ ~gone~", "**bold** *it* ~~gone~~"),
        ("*bold with _it_ inside*", "**bold with *it* inside**"),
        ("snake_case_name and 2*3*4", "snake_case_name and 2*3*4"),
        ("a &lt;b&gt; &amp;lt;", "a <b> &lt;"),
        ("&gt; quoted", "> quoted"),
        ("`*not bold* <@U123>`", "`*not bold* <@U123>`"),
        ("before ```x = 1\ny = 2``` after", "before \n```\nx = 1\ny = 2\n```\n after"),
        ("*see <https://x.org|here>*", "**see [here](https://x.org)**"),
    ],
)
def test_from_mrkdwn_reads_slack_into_markdown(mrkdwn: str, markdown: str) -> None:
    assert from_mrkdwn(mrkdwn, PEOPLE.get, CHANNELS.get) == markdown


def test_from_mrkdwn_without_resolvers_keeps_ids() -> None:
    assert from_mrkdwn("<@U123> <#C999>") == "@U123 #C999"


def test_from_mrkdwn_asks_the_resolver_only_when_slack_sent_no_label() -> None:
    asked: list[str] = []

    def resolve(identifier: str) -> str | None:
        asked.append(identifier)
        return None

    from_mrkdwn("<#C1|general> <#C2>", resolve_channel=resolve)
    assert asked == ["C2"]


@pytest.mark.parametrize(
    "markdown",
    [
        "**Deploy** finished: see [the log](https://ci.example.org/run/1?x=1&y=2).",
        "*Careful*: `a < b` and ~~old~~ plan",
        "> a quote",
        "<https://example.org>",
    ],
)
def test_markdown_survives_a_round_trip_through_mrkdwn(markdown: str) -> None:
    assert from_mrkdwn(to_mrkdwn(markdown)) == markdown
