"""Discord Markdown both ways; rules from https://support.discord.com/hc/en-us/articles/210298617
and https://discord.com/developers/docs/reference#message-formatting."""

from __future__ import annotations

import pytest

from multichat.chat.markup.discord import from_discord, to_discord


@pytest.mark.parametrize(
    ("markdown", "content"),
    [
        ("**bold** *italic* ~~gone~~ `code`", "**bold** *italic* ~~gone~~ `code`"),
        ("__bold__ and _italic_", "**bold** and *italic*"),  # Discord: __x__ is underline
        ("# One\n\n## Two\n\n### Three", "# One\n\n## Two\n\n### Three"),
        ("#### Four", "**Four**"),
        ("Setext\n======", "# Setext"),
        ("[masked](https://x.org)", "[masked](https://x.org)"),
        ("![cat](https://x.org/cat.png)", "[cat](https://x.org/cat.png)"),
        (
            "hi <@42> in <#7> <:blob:99> <t:1700000000:R>",
            "hi <@42> in <#7> <:blob:99> <t:1700000000:R>",
        ),
        ("```py\nprint(1)\n```", "```py\nprint(1)\n```"),
        ("> quoted", "> quoted"),
        ("- a\n- b", "- a\n- b"),
        ("<b>raw</b>", "\\<b>raw\\</b>"),
    ],
)
def test_to_discord_keeps_markdown_in_discord_s_dialect(markdown: str, content: str) -> None:
    assert to_discord(markdown) == content


def test_to_discord_leaves_unsafe_links_as_text() -> None:
    assert to_discord("[x](javascript:alert(1))") == r"\[x\](javascript:alert(1))"


USERS = {"1": "Ada"}
CHANNELS = {"4": "general"}
ROLES = {"3": "Mods"}


@pytest.mark.parametrize(
    ("content", "markdown"),
    [
        ("hi <@1>", "hi @Ada"),
        ("hi <@!1>", "hi @Ada"),
        ("hi <@2>", "hi @2"),
        ("in <#4>", "in #general"),
        ("ping <@&3>", "ping @Mods"),
        ("<:blob:99> <a:wave:98>", ":blob: :wave:"),
        ("<t:1700000000:R>", "2023-11-14T22:13:20Z"),
        ("<t:1700000000>", "2023-11-14T22:13:20Z"),
        ("</deploy:55>", "/deploy"),
        ("`<@1>` stays", "`<@1>` stays"),
        ("<t:99999999999999999999:R>", "<t:99999999999999999999:R>"),
    ],
)
def test_from_discord_reads_mentions_emoji_and_timestamps(content: str, markdown: str) -> None:
    assert from_discord(content, USERS.get, CHANNELS.get, ROLES.get) == markdown


@pytest.mark.parametrize(
    "markdown", ["**Ship it** *today*, see [PR](https://x.org/pr/1)", "# Notes\n\n- one\n- two"]
)
def test_markdown_survives_a_round_trip_through_discord(markdown: str) -> None:
    assert from_discord(to_discord(markdown)) == markdown
