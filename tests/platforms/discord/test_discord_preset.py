"""``new provider --preset discord``: its config entry, its next steps (the bot's invite link),
and the generated provider passing ruff, mypy --strict and its own tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from discord_world import APPLICATION_ID
from helpers import run_module
from ruamel.yaml import YAML

from multichat.errors import UserError
from multichat.generator.provider import add_provider

# https://discord.com/developers/docs/topics/permissions#permissions-bitwise-permission-flags
PERMISSION_BITS = {
    "ADD_REACTIONS": 1 << 6,
    "VIEW_CHANNEL": 1 << 10,
    "SEND_MESSAGES": 1 << 11,
    "READ_MESSAGE_HISTORY": 1 << 16,
    "SEND_MESSAGES_IN_THREADS": 1 << 38,
}


def generate(workspace: Path, name: str = "dc", **data: object):
    return add_provider(
        name, config_path=workspace / "provider-config.yaml", preset="discord", data=dict(data)
    )


def test_the_entry_signs_in_with_a_bot_token_against_discord_v10(workspace):
    generate(workspace, discord_application_id=APPLICATION_ID)

    entry = YAML(typ="safe").load((workspace / "provider-config.yaml").read_text())["providers"]
    assert entry["dc"]["auth"] == {"mode": "token", "scheme": "bot", "whoami": "users/@me"}
    assert entry["dc"]["api_base_url"] == "https://discord.com/api/v10"
    assert entry["dc"]["scopes"] == ["bot"]
    assert entry["dc"]["read_only"] is False


def test_next_steps_give_the_invite_link_with_exactly_the_permissions_needed(workspace):
    steps = generate(workspace, discord_application_id=APPLICATION_ID).next_steps
    later = generate(workspace, "dc_later").next_steps

    permissions = sum(PERMISSION_BITS.values())
    assert permissions == 274877975616
    # https://discord.com/developers/docs/topics/oauth2#bot-authorization-flow
    assert (
        f"https://discord.com/oauth2/authorize?client_id={APPLICATION_ID}&scope=bot"
        f"&permissions={permissions}"
    ) in steps
    assert "Message Content Intent" in steps
    assert "uv run multichat auth dc\n" in steps
    assert "client_id=APPLICATION_ID&" in later
    assert "replace APPLICATION_ID" in later


@pytest.mark.parametrize("bad", ["12ab", "123", "1" * 21, "157730590492196864\n"])
def test_a_malformed_application_id_is_refused_and_nothing_is_written(workspace, bad):
    before = (workspace / "provider-config.yaml").read_text()
    with pytest.raises(UserError, match="17 to 20 digits"):
        generate(workspace, discord_application_id=bad)

    assert (workspace / "provider-config.yaml").read_text() == before
    assert not (workspace / "src" / "providers" / "dc").exists()


def test_the_generated_provider_passes_ruff_and_its_own_tests(workspace):
    generate(workspace, discord_application_id=APPLICATION_ID)

    ruff = run_module("ruff", "check", "--no-cache", ".", cwd=workspace)
    tests = run_module("pytest", "-q", "-p", "no:cacheprovider", cwd=workspace)

    assert ruff.returncode == 0, ruff.stdout + ruff.stderr
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert " passed" in tests.stdout
    assert "failed" not in tests.stdout


def test_the_generated_provider_passes_mypy_strict(workspace, pytestconfig):
    generate(workspace, discord_application_id=APPLICATION_ID)
    cache = pytestconfig.cache.mkdir("mypy-discord-provider") if pytestconfig.cache else None
    args = ["mypy", "--strict", "--no-error-summary", "src/providers/dc"]
    if cache is not None:
        args[1:1] = ["--cache-dir", str(cache)]

    mypy = run_module(*args, cwd=workspace)

    assert mypy.returncode == 0, mypy.stdout + mypy.stderr
