"""The package's public names, and that they load lazily."""

from __future__ import annotations

import subprocess
import sys

import multichat.chat.markup as markup


def test_public_names_are_pinned_and_all_resolve() -> None:
    assert markup.__all__ == [
        "LIMITS",
        "Limit",
        "MessageTooLong",
        "Resolver",
        "Unit",
        "check_length",
        "from_discord",
        "from_google_chat",
        "from_html",
        "from_mattermost",
        "from_mrkdwn",
        "from_zulip",
        "to_discord",
        "to_google_chat",
        "to_html",
        "to_mattermost",
        "to_mrkdwn",
        "to_zulip",
    ]
    for name in markup.__all__:
        assert getattr(markup, name) is not None


def test_a_slack_provider_never_loads_the_html_reader() -> None:
    code = (
        "import sys\n"
        "from multichat.chat.markup import to_mrkdwn, from_mrkdwn\n"
        "from_mrkdwn(to_mrkdwn('**hi**'))\n"
        "print('bs4' in sys.modules, 'markdownify' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.split() == ["False", "False"]
