"""The provider ``new provider --preset zulip`` writes passes ruff, mypy --strict and its own
generated tests (as tests/generator/test_provider_render.py checks the blank preset)."""

from __future__ import annotations

from pathlib import Path

import pytest
from platforms.preset_workspace import check_lint_and_own_tests, check_mypy_strict, generate

from multichat.errors import UserError

NAME = "org_chat"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("generated") / "ws"
    return generate(folder, NAME, "zulip", "https://example.zulipchat.com")


def test_the_entry_points_at_the_organizations_api_with_basic_auth(generated: Path) -> None:
    config = (generated / "provider-config.yaml").read_text()

    assert 'api_base_url: "https://example.zulipchat.com/api/v1"' in config
    assert "mode: token" in config
    assert "scheme: basic" in config
    assert 'whoami: "users/me"' in config


@pytest.mark.parametrize(
    "server_url",
    [
        "example.zulipchat.com",  # no scheme
        "http://example.zulipchat.com",  # a token over plain HTTP off this machine
        "https://example.zulipchat.com/api/v1",  # the API, not the server
        "https://example.zulipchat.com\nx: 1",
    ],
)
def test_a_bad_server_url_is_refused_and_writes_nothing(tmp_path: Path, server_url: str) -> None:
    from multichat.generator.provider import add_provider
    from multichat.generator.workspace import create_workspace

    create_workspace(tmp_path / "ws")
    config = tmp_path / "ws" / "provider-config.yaml"
    before = config.read_text()

    with pytest.raises(UserError, match="server_url"):
        add_provider("org", config_path=config, preset="zulip", data={"server_url": server_url})

    assert config.read_text() == before
    assert not (tmp_path / "ws" / "src" / "providers" / "org").exists()


def test_the_generated_provider_passes_ruff_and_its_own_tests(generated: Path) -> None:
    check_lint_and_own_tests(generated, NAME)


def test_the_generated_provider_passes_mypy_strict(
    generated: Path, pytestconfig: pytest.Config
) -> None:
    cache = pytestconfig.cache.mkdir("mypy-token-presets") if pytestconfig.cache else None
    check_mypy_strict(generated, NAME, cache)
