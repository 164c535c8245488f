"""Per-person token selection in ``ProviderAuth``: what a call for a person may and may not use."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from multichat.errors import TokenAccessDenied
from multichat.runtime import load_config, provider_auth
from multichat.runtime.loader import activate_workspace
from multichat.runtime.token_access import reset_provider_auth
from multichat.runtime.users import (
    SignInRequired,
    UserIdentity,
    acting_as,
    require_users,
    set_sign_in_link,
    user_token_path,
)

ADA = UserIdentity("https://idp.example", "sub-ada", "ada")
ADA_ELSEWHERE = UserIdentity("https://other-idp.example", "sub-ada", "ada")


@pytest.fixture
def ws(workspace: Path, add_provider) -> Iterator[Path]:
    add_provider("alpha")
    activate_workspace(load_config(workspace / "provider-config.yaml"))
    reset_provider_auth()
    yield workspace
    require_users(False)
    set_sign_in_link(None)
    reset_provider_auth()


def test_a_person_has_their_own_file_and_memory(ws: Path):
    auth = provider_auth("alpha")
    auth.save_credentials({"access_token": "shared-token-aaaaaaaa"})
    with acting_as(ADA):
        assert auth.get_credentials() is None
        auth.save_credentials({"access_token": "ada-token-bbbbbbbbbb"})
        assert auth.require_credentials().access_token == "ada-token-bbbbbbbbbb"
        assert auth.token_path() == user_token_path(ws, ADA, "alpha")
    with acting_as(ADA_ELSEWHERE):  # the same sub at another issuer is another person
        assert auth.get_credentials() is None
    assert auth.require_credentials().access_token == "shared-token-aaaaaaaa"
    assert user_token_path(ws, ADA, "alpha").stat().st_mode & 0o777 == 0o600


def test_the_environment_token_serves_no_person(ws: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("MULTICHAT_ALPHA_TOKEN", "environment-token-cccccccc")
    auth = provider_auth("alpha")
    assert auth.require_credentials().access_token == "environment-token-cccccccc"
    with acting_as(ADA), pytest.raises(SignInRequired):
        auth.require_credentials()


def test_an_explicit_token_path_serves_no_person(ws: Path, tmp_path: Path):
    auth = provider_auth("alpha")
    with acting_as(ADA), pytest.raises(TokenAccessDenied, match="explicit token_path"):
        auth.get_credentials(tmp_path / "elsewhere.json")


def test_a_multi_user_server_gives_no_token_to_a_call_without_a_person(ws: Path):
    auth = provider_auth("alpha")
    auth.save_credentials({"access_token": "shared-token-aaaaaaaa"})
    require_users()
    with pytest.raises(TokenAccessDenied, match="no user identity"):
        auth.get_credentials()


def test_the_sign_in_error_carries_the_link_made_for_that_person(ws: Path):
    made: list[UserIdentity] = []

    def link(provider: str, user: UserIdentity) -> str:
        made.append(user)
        return f"https://mcp.example/signin/{provider}?ticket=t"

    set_sign_in_link(link)
    with acting_as(ADA), pytest.raises(SignInRequired) as refused:
        provider_auth("alpha").require_credentials()
    assert "https://mcp.example/signin/alpha?ticket=t" in str(refused.value)
    assert made == [ADA]
