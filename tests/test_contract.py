"""Provider names: a lowercase Python identifier, not a keyword, not one the workspace uses."""

from __future__ import annotations

import pytest

from multichat.contract import NAME_RULE, RESERVED_NAMES, validate_provider_name
from multichat.errors import InvalidProviderName, UserError


@pytest.mark.parametrize(
    "name",
    # `none` and `true` are fine: only `None` and `True` are keywords.
    ["slack", "google_chat", "a", "x1", "teams2", "a_b_c", "chat_", "classic", "none", "true"],
)
def test_valid_names_are_returned_unchanged(name):
    assert validate_provider_name(name) == name


@pytest.mark.parametrize(
    "name",
    [
        "",
        "Slack",
        "sLack",
        "SLACK",
        "1chat",
        "9",
        "google-chat",
        "google chat",
        "_private",
        "chat.app",
        "café",
        "slack\n",
        " slack",
        "slack/../x",
    ],
)
def test_names_that_are_not_lowercase_identifiers_say_what_is_allowed(name):
    with pytest.raises(InvalidProviderName) as caught:
        validate_provider_name(name)

    message = str(caught.value)
    assert repr(name) in message
    assert NAME_RULE in message
    assert "lowercase Python identifier" in message
    assert "a letter, then letters, digits or underscores" in message


@pytest.mark.parametrize("name", ["class", "def", "import", "async", "lambda", "match", "case"])
def test_keywords_and_soft_keywords_are_refused(name):
    with pytest.raises(InvalidProviderName, match="keyword") as caught:
        validate_provider_name(name)
    message = str(caught.value)
    assert repr(name) in message
    assert "lowercase Python identifier" in message
    assert "e.g. slack" in message


@pytest.mark.parametrize("name", sorted(RESERVED_NAMES))
def test_names_the_workspace_uses_are_refused(name):
    with pytest.raises(InvalidProviderName) as caught:
        validate_provider_name(name)

    message = str(caught.value)
    assert repr(name) in message
    assert "the workspace uses it already" in message
    assert "mcp_core" in message
    assert "lowercase Python identifier" in message


def test_reserved_names_include_the_guide_packages():
    assert {"inbox", "mcp_core", "src", "providers", "server"} <= RESERVED_NAMES


def test_invalid_name_is_a_user_error_and_a_value_error():
    with pytest.raises(ValueError, match="invalid provider name"):
        validate_provider_name("Bad-Name")
    assert issubclass(InvalidProviderName, UserError)
    assert InvalidProviderName.exit_code == 2
