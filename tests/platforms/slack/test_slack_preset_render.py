"""``new provider --preset slack``: the config entry, the app manifest, the next steps, and the
generated workspace passing ruff, mypy --strict and its own tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import run_module
from ruamel.yaml import YAML

from multichat.generator.provider import add_provider as generate
from multichat.runtime.config import load_config

ROOT = Path(__file__).resolve().parents[3]
MANIFEST = "slack-app-manifest.yaml"


def yaml_of(path: Path) -> dict:
    return YAML(typ="safe").load(path.read_text(encoding="utf-8"))


def default_scopes() -> list[str]:
    document = yaml_of(ROOT / "copier.yml")
    text = document["scopes"]["default"]
    start = text.index("elif preset == 'slack'")
    listed = text[text.index("[", start) + 1 : text.index("]", start)]
    return [scope.strip() for scope in listed.split(",")]


def test_a_token_provider_gets_its_entry_manifest_and_next_steps(workspace):
    result = generate("slack_work", config_path=workspace / "provider-config.yaml", preset="slack")

    entry = load_config(workspace / "provider-config.yaml").provider("slack_work")
    assert (entry.auth.mode, entry.auth.whoami) == ("token", "auth.test")
    assert entry.api_base_url == "https://slack.com/api"
    assert entry.oauth is not None
    assert entry.oauth.authorize_url == "https://slack.com/oauth/v2/authorize"
    assert entry.oauth.token_url == "https://slack.com/api/oauth.v2.access"
    assert (entry.oauth.scope_param, entry.oauth.token_key) == ("user_scope", "authed_user")
    assert entry.scopes == default_scopes()
    manifest = yaml_of(workspace / "src/providers/slack_work" / MANIFEST)
    assert manifest["oauth_config"]["scopes"]["user"] == entry.scopes
    assert "redirect_urls" not in manifest["oauth_config"]  # a pasted token needs none
    assert manifest["settings"]["token_rotation_enabled"] is False
    assert manifest["display_information"]["name"] == "Slack Work"
    assert f"src/providers/slack_work/{MANIFEST}" in result.next_steps
    assert "MULTICHAT_SLACK_WORK_TOKEN" in result.next_steps
    assert "uv run multichat auth slack_work" in result.next_steps


def test_an_oauth_provider_registers_its_own_port_and_rotating_tokens(workspace):
    result = generate(
        "slack_home",
        config_path=workspace / "provider-config.yaml",
        preset="slack",
        data={"slack_auth_mode": "oauth", "port": 8123, "scopes": ["search:read", "users:read"]},
    )

    entry = load_config(workspace / "provider-config.yaml").provider("slack_home")
    manifest = yaml_of(workspace / "src/providers/slack_home" / MANIFEST)
    assert entry.auth.mode == "oauth"
    assert (entry.oauth.scope_param, entry.oauth.token_key) == ("user_scope", "authed_user")
    assert manifest["oauth_config"]["redirect_urls"] == ["http://127.0.0.1:8123/auth/callback"]
    assert manifest["oauth_config"]["redirect_urls"] == [entry.callback_url]
    assert manifest["oauth_config"]["scopes"] == {"user": ["search:read", "users:read"]}
    assert manifest["settings"]["token_rotation_enabled"] is True
    assert "turn on PKCE" in result.next_steps
    assert "MULTICHAT_SLACK_HOME_CLIENT_ID" in result.next_steps


def test_each_slack_provider_has_its_own_manifest_and_other_presets_none(workspace):
    generate("slack_a", config_path=workspace / "provider-config.yaml", preset="slack")
    generate("slack_b", config_path=workspace / "provider-config.yaml", preset="slack")
    generate("plain", config_path=workspace / "provider-config.yaml")

    assert sorted(
        p.parent.name for p in workspace.rglob(MANIFEST) if ".multichat" not in p.parts
    ) == [
        "slack_a",
        "slack_b",
    ]
    first = yaml_of(workspace / "src/providers/slack_a" / MANIFEST)
    assert first["display_information"]["name"] == "Slack A"


def test_every_default_scope_says_which_tools_need_it_in_the_manifest_and_the_docs(workspace):
    generate("slack_work", config_path=workspace / "provider-config.yaml", preset="slack")
    text = (workspace / "src/providers/slack_work" / MANIFEST).read_text(encoding="utf-8")
    docs = (ROOT / "docs/platforms/slack.md").read_text(encoding="utf-8")

    for scope in default_scopes():
        line = next(line for line in text.splitlines() if f'- "{scope}"' in line)
        assert "  # " in line, scope
        assert f"`{scope}`" in docs, scope


# ---- the generated code passes the tools --------------------------------------------------------


@pytest.fixture
def generated(workspace: Path) -> Path:
    generate("slack_work", config_path=workspace / "provider-config.yaml", preset="slack")
    return workspace


def test_the_generated_workspace_passes_ruff_and_its_own_tests(generated):
    linted = run_module("ruff", "check", "--no-cache", ".", cwd=generated)
    tested = run_module("pytest", "-v", "-p", "no:cacheprovider", cwd=generated)
    output = tested.stdout + tested.stderr

    assert linted.returncode == 0, linted.stdout + linted.stderr
    assert tested.returncode == 0, output
    test_file = "tests/providers/slack_work/test_slack_work_provider.py"
    for name in (
        "test_whoami_before_sign_in_names_the_fix",
        "test_the_chat_tool_set_is_served_with_annotations",
        "test_read_only_hides_every_writer",
    ):
        assert f"{test_file}::{name} PASSED" in output


def test_the_generated_provider_passes_mypy_strict(generated):
    result = run_module(
        "mypy", "--strict", "--no-error-summary", "src/providers/slack_work", cwd=generated
    )

    assert result.returncode == 0, result.stdout + result.stderr
