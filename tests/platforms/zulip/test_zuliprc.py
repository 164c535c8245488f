"""parse_zuliprc reads the file Zulip's settings page downloads.

The format is https://zulip.com/api/configuring-python-bindings ("Configuration keys and
environment variables"): INI, an [api] section with key, email and site.
"""

from __future__ import annotations

import pytest

from multichat.errors import UserError
from multichat.platforms.zuliprc import parse_zuliprc

# As "Download zuliprc" writes it (configuring-python-bindings, "Download a zuliprc file").
DOWNLOADED = """\
[api]
email=ada@example.com
key=gjA04ZYcqXKalvYMA8OeXSfzUOLrtbZv
site=https://example.zulipchat.com
"""


def test_a_downloaded_zuliprc_gives_the_stored_token_fields() -> None:
    assert parse_zuliprc(DOWNLOADED) == {
        "username": "ada@example.com",
        "access_token": "gjA04ZYcqXKalvYMA8OeXSfzUOLrtbZv",
        "site": "https://example.zulipchat.com",
    }


@pytest.mark.parametrize(
    ("site", "normalised"),
    [
        ("example.zulipchat.com", "https://example.zulipchat.com"),
        ("https://chat.example.com/", "https://chat.example.com"),
        ("https://chat.example.com/api/", "https://chat.example.com"),
        ("localhost:9991", "http://localhost:9991"),
        ("https://example.com/zulip", "https://example.com/zulip"),
    ],
)
def test_the_site_is_normalised_as_zulips_python_bindings_do(site: str, normalised: str) -> None:
    text = f"[api]\nemail = ada@example.com\nkey = k\nsite = {site}\n"

    assert parse_zuliprc(text)["site"] == normalised


def test_other_keys_and_sections_are_ignored_and_percent_signs_kept() -> None:
    text = "[api]\nemail=ops%team@example.com\nkey=k%1\ninsecure=false\n[other]\nx=1\n"

    assert parse_zuliprc(text) == {
        "username": "ops%team@example.com",
        "access_token": "k%1",
        "site": None,
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("email=ada@example.com\n", "not an INI file"),
        ("[bots]\nemail=a\nkey=b\n", "has an \\[api\\] section"),
        ("[api]\nemail=ada@example.com\n", "no key"),
        ("[api]\nkey=abc\nemail=\n", "no email"),
        ("[api]\nsite=https://x\n", "no email or key"),
    ],
)
def test_a_file_without_credentials_is_a_user_error(text: str, message: str) -> None:
    with pytest.raises(UserError, match=message):
        parse_zuliprc(text)
