"""The provider ``new provider --preset mattermost`` writes passes ruff, mypy --strict and its
own generated tests (as tests/generator/test_provider_render.py checks the blank preset)."""

from __future__ import annotations

from pathlib import Path

import pytest
from platforms.preset_workspace import check_lint_and_own_tests, check_mypy_strict, generate

NAME = "team_chat"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("generated") / "ws"
    return generate(folder, NAME, "mattermost", "https://chat.example.com/")


def test_the_entry_points_at_the_servers_api_with_a_bearer_token(generated: Path) -> None:
    config = (generated / "provider-config.yaml").read_text()

    assert 'api_base_url: "https://chat.example.com/api/v4"' in config
    assert "mode: token" in config
    assert "scheme: bearer" in config
    assert 'whoami: "users/me"' in config


def test_the_generated_provider_passes_ruff_and_its_own_tests(generated: Path) -> None:
    check_lint_and_own_tests(generated, NAME)


def test_the_generated_provider_passes_mypy_strict(
    generated: Path, pytestconfig: pytest.Config
) -> None:
    cache = pytestconfig.cache.mkdir("mypy-token-presets") if pytestconfig.cache else None
    check_mypy_strict(generated, NAME, cache)
