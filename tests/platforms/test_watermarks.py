"""Where the presets keep their local read markers: the workspace's, or each person's own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from multichat.errors import TokenAccessDenied
from multichat.platforms._watermarks import state_file, where_kept
from multichat.runtime import load_config
from multichat.runtime.config import TOKEN_DIR_ENV
from multichat.runtime.loader import activate_workspace
from multichat.runtime.users import UserIdentity, acting_as, require_users, user_token_path

ADA = UserIdentity("https://idp.example", "sub-ada", "ada")
GRACE = UserIdentity("https://idp.example", "sub-grace", "grace")


@pytest.fixture
def ws(workspace: Path) -> Iterator[Path]:
    activate_workspace(load_config(workspace / "provider-config.yaml"))
    yield workspace
    require_users(False)


def test_one_person_keeps_the_workspace_file(ws: Path):
    assert state_file("teams", "marks.json") == ws / ".multichat" / "state" / "teams" / "marks.json"
    assert where_kept("teams", "marks.json") == ".multichat/state/teams/marks.json in the workspace"


def test_two_people_keep_their_own_beside_their_tokens(ws: Path):
    with acting_as(ADA):
        ada = state_file("teams", "marks.json")
        told = where_kept("teams", "marks.json")
    with acting_as(GRACE):
        grace = state_file("teams", "marks.json")

    assert ada != grace
    assert ada == user_token_path(ws, ADA, "teams").with_name("state") / "marks.json"
    assert grace == user_token_path(ws, GRACE, "teams").with_name("state") / "marks.json"
    assert ".multichat" not in told


def test_with_a_token_folder_a_persons_markers_go_there(
    ws: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv(TOKEN_DIR_ENV, str(tmp_path / "tokens"))
    with acting_as(ADA):
        assert state_file("teams", "marks.json").is_relative_to(tmp_path / "tokens" / "users")


def test_a_team_server_keeps_no_markers_for_a_call_that_names_no_one(ws: Path):
    require_users()
    with pytest.raises(TokenAccessDenied, match="carries no user identity"):
        state_file("teams", "marks.json")
