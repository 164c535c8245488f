"""plan_install and apply: secrets, VS Code inputs, refusals, and writing safely."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from clients_support import SAMPLES, Folders, load, prepare_client_folder

from multichat.clients import ClientChange, apply, plan_install, server_entry
from multichat.clients.errors import (
    ClientError,
    ClientFileChanged,
    ClientNotInstalled,
    EnvNeedsValue,
    InvalidClientFile,
    UnknownClient,
)
from multichat.errors import UserError

SECRET = "xoxb-not-a-real-token-1234567890"


def plan(
    folders: Folders,
    client: str,
    *,
    env: tuple[str, ...] = (),
    remove: bool = False,
    platform: str = "linux",
    environ: dict[str, str] | None = None,
) -> ClientChange:
    entry = server_entry(folders.workspace, env=env)
    return plan_install(
        client,
        entry,
        home=folders.home,
        cwd=folders.cwd,
        platform=platform,
        remove=remove,
        environ=environ,
    )


# ---- environment variables and secrets ---------------------------------------------------


@pytest.mark.parametrize(
    ("client", "reference"),
    [
        # ${VAR}: "Environment variable expansion in .mcp.json", https://code.claude.com/docs/en/mcp
        ("claude-code", "${MULTICHAT_SLACK_CLIENT_SECRET}"),
        # ${env:NAME}: config interpolation, https://cursor.com/docs/context/mcp
        ("cursor", "${env:MULTICHAT_SLACK_CLIENT_SECRET}"),
        # $VAR / ${VAR} in settings values, https://geminicli.com/docs/tools/mcp-server
        ("gemini-cli", "${MULTICHAT_SLACK_CLIENT_SECRET}"),
    ],
)
def test_a_variable_without_value_is_read_by_the_client(
    folders: Folders, client: str, reference: str
) -> None:
    path = prepare_client_folder(folders, client, "linux")
    change = plan(folders, client, env=("MULTICHAT_SLACK_CLIENT_SECRET",))
    assert change.warnings == ()
    apply(change)
    env = load(path, client)["mcpServers"]["chat-ws"]["env"]
    assert env == {"MULTICHAT_SLACK_CLIENT_SECRET": reference}


def test_goose_takes_a_variable_without_value_from_its_secret_store(folders: Folders) -> None:
    # env_keys: names goose fills from its keyring or the environment (config-files guide)
    path = prepare_client_folder(folders, "goose", "linux")
    apply(plan(folders, "goose", env=("MULTICHAT_SLACK_CLIENT_SECRET", "PLAIN=1")))
    extension = load(path, "goose")["extensions"]["chat-ws"]
    assert extension["env_keys"] == ["MULTICHAT_SLACK_CLIENT_SECRET"]
    assert extension["envs"] == {"PLAIN": "1"}
    assert extension["type"] == "stdio"
    assert extension["enabled"] is True


def test_claude_desktop_needs_the_value_itself(folders: Folders) -> None:
    prepare_client_folder(folders, "claude-desktop", "linux")
    with pytest.raises(EnvNeedsValue, match=r"--env MULTICHAT_X=VALUE"):
        plan(folders, "claude-desktop", env=("MULTICHAT_X",))


@pytest.mark.parametrize("client", ["claude-desktop", "claude-code", "vscode", "goose"])
def test_a_given_value_is_written_with_a_warning_and_a_private_new_file(
    folders: Folders, client: str
) -> None:
    path = prepare_client_folder(folders, client, "linux")
    change = plan(folders, client, env=(f"MULTICHAT_SLACK_TOKEN={SECRET}",))

    [warning] = change.warnings
    assert str(path) in warning
    assert "MULTICHAT_SLACK_TOKEN" in warning
    assert SECRET not in warning + change.description
    apply(change)
    assert SECRET in path.read_text(encoding="utf-8")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_secret_for_an_existing_readable_file_says_to_chmod_it(folders: Folders) -> None:
    path = prepare_client_folder(folders, "claude-desktop", "darwin")
    path.write_text(SAMPLES["claude-desktop"], encoding="utf-8")
    os.chmod(path, 0o644)
    change = plan(folders, "claude-desktop", env=(f"TOKEN={SECRET}",), platform="darwin")
    assert f"chmod 600 {path}" in change.warnings[0]


# ---- VS Code inputs ------------------------------------------------------------------------


def test_vscode_prompts_for_a_variable_and_stores_no_value(folders: Folders) -> None:
    # "inputs" with promptString and password: true, referenced as ${input:ID}
    # (https://code.visualstudio.com/docs/copilot/reference/mcp-configuration)
    path = prepare_client_folder(folders, "vscode", "linux")
    path.parent.mkdir(parents=True)
    path.write_text(SAMPLES["vscode"], encoding="utf-8")

    apply(plan(folders, "vscode", env=("MULTICHAT_SLACK_TOKEN",)))

    data = load(path, "vscode")
    server = data["servers"]["chat-ws"]
    assert server["type"] == "stdio"
    assert server["env"] == {"MULTICHAT_SLACK_TOKEN": "${input:chat-ws-MULTICHAT_SLACK_TOKEN}"}
    assert data["inputs"][0]["id"] == "perplexity-key"
    assert data["inputs"][1] == {
        "type": "promptString",
        "id": "chat-ws-MULTICHAT_SLACK_TOKEN",
        "description": "MULTICHAT_SLACK_TOKEN for the chat-ws MCP server",
        "password": True,
    }


def test_vscode_drops_an_input_only_the_old_entry_used(folders: Folders) -> None:
    path = prepare_client_folder(folders, "vscode", "linux")
    path.parent.mkdir(parents=True)
    path.write_text(SAMPLES["vscode"], encoding="utf-8")
    apply(plan(folders, "vscode", env=("A_TOKEN", "B_TOKEN")))

    apply(plan(folders, "vscode", env=("B_TOKEN",)))
    ids = [item["id"] for item in load(path, "vscode")["inputs"]]
    assert ids == ["perplexity-key", "chat-ws-B_TOKEN"]

    apply(plan(folders, "vscode", remove=True))
    assert path.read_text(encoding="utf-8") == SAMPLES["vscode"]


def test_vscode_keeps_an_input_another_server_still_uses(folders: Folders) -> None:
    path = prepare_client_folder(folders, "vscode", "linux")
    apply(plan(folders, "vscode", env=("A_TOKEN",)))
    text = path.read_text(encoding="utf-8").replace(
        '"servers": {',
        '"servers": {\n    "mine": {"command": "x", "env": {"T": "${input:chat-ws-A_TOKEN}"}},',
    )
    path.write_text(text, encoding="utf-8")

    apply(plan(folders, "vscode", remove=True))

    assert [item["id"] for item in load(path, "vscode")["inputs"]] == ["chat-ws-A_TOKEN"]


# ---- refusals ------------------------------------------------------------------------------


def test_an_unknown_client_lists_the_choices(folders: Folders) -> None:
    with pytest.raises(UnknownClient) as caught:
        plan(folders, "emacs")
    assert str(caught.value) == (
        "unknown client 'emacs': choose one of claude-desktop, claude-code, cursor, vscode, "
        "gemini-cli, goose, mcp-json"
    )
    assert isinstance(caught.value, UserError)
    assert isinstance(caught.value, KeyError)


@pytest.mark.parametrize("client", ["claude-desktop", "gemini-cli", "goose"])
def test_an_app_that_never_ran_is_not_given_a_folder(folders: Folders, client: str) -> None:
    with pytest.raises(ClientNotInstalled, match=r"does not exist: install .* and start it once"):
        plan(folders, client)
    assert list(folders.home.iterdir()) == []


@pytest.mark.parametrize("client", ["claude-desktop", "claude-code"])
def test_plain_json_clients_refuse_comments(folders: Folders, client: str) -> None:
    path = prepare_client_folder(folders, client, "linux")
    path.write_text('{\n  // mine\n  "mcpServers": {}\n}\n', encoding="utf-8")
    with pytest.raises(InvalidClientFile) as caught:
        plan(folders, client)
    assert str(caught.value).startswith(f"{path}:2:3: comments are not allowed here")


def test_gemini_accepts_comments_but_not_trailing_commas(folders: Folders) -> None:
    path = prepare_client_folder(folders, "gemini-cli", "linux")
    path.write_text('{\n  "theme": "GitHub", // mine\n}\n', encoding="utf-8")
    with pytest.raises(InvalidClientFile, match=r"settings.json:2:20: a comma before '\}'"):
        plan(folders, "gemini-cli")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[1, 2]\n", ":1: the file must hold a JSON object"),
        ('{"mcpServers": []}\n', ":1: `mcpServers` must be a JSON object"),
        ('{"mcpServers": {"chat-ws": {}, "chat-ws": {}}}\n', "`mcpServers.chat-ws` appears twice"),
    ],
)
def test_a_file_of_the_wrong_shape_is_refused(folders: Folders, text: str, problem: str) -> None:
    path = prepare_client_folder(folders, "claude-code", "linux")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidClientFile, match=problem):
        plan(folders, "claude-code")
    assert path.read_text(encoding="utf-8") == text


def test_a_file_that_is_not_utf8_is_refused(folders: Folders) -> None:
    path = prepare_client_folder(folders, "cursor", "linux")
    path.parent.mkdir(parents=True)
    path.write_bytes(b'{\n  "a": "\xff"\n}\n')
    with pytest.raises(InvalidClientFile, match=r"mcp.json:2: not UTF-8 text"):
        plan(folders, "cursor")


def test_windows_paths_of_app_clients_are_not_guessed(folders: Folders) -> None:
    with pytest.raises(ClientError, match=r"Linux and macOS only.*mcp-json"):
        plan(folders, "claude-desktop", platform="win32")
    assert plan(folders, "vscode", platform="win32").path == folders.cwd / ".vscode/mcp.json"


# ---- locations -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("client", "relative"),
    [("claude-desktop", "Claude/claude_desktop_config.json"), ("goose", "goose/config.yaml")],
)
def test_xdg_config_home_moves_linux_app_files(
    folders: Folders, tmp_path: Path, client: str, relative: str
) -> None:
    config_home = tmp_path / "xdg"
    (config_home / relative).parent.mkdir(parents=True)
    change = plan(folders, client, environ={"XDG_CONFIG_HOME": str(config_home)})
    assert change.path == config_home / relative


# ---- mcp-json ------------------------------------------------------------------------------


def test_mcp_json_prints_the_standard_entry_and_writes_nothing(folders: Folders) -> None:
    change = plan(folders, "mcp-json", env=("MULTICHAT_X", f"TOKEN={SECRET}"))
    assert change.path is None
    assert not change.changed
    assert json.loads(change.new_text) == {
        "mcpServers": {
            "chat-ws": {
                "command": "uv",
                "args": ["run", "--directory", str(folders.workspace), "multichat", "run"],
                "env": {"MULTICHAT_X": "${MULTICHAT_X}", "TOKEN": SECRET},
            }
        }
    }
    assert change.warnings == ("the printed entry holds the value of TOKEN",)
    apply(change)
    assert sorted(folders.home.rglob("*")) == []


def test_mcp_json_has_nothing_to_remove(folders: Folders) -> None:
    with pytest.raises(ClientError, match=r"only prints an entry"):
        plan(folders, "mcp-json", remove=True)


# ---- applying ------------------------------------------------------------------------------


def test_apply_refuses_a_file_that_changed_after_the_plan(folders: Folders) -> None:
    path = prepare_client_folder(folders, "gemini-cli", "linux")
    path.write_text(SAMPLES["gemini-cli"], encoding="utf-8")
    change = plan(folders, "gemini-cli")
    path.write_text(SAMPLES["gemini-cli"].replace("GitHub", "Dracula"), encoding="utf-8")

    with pytest.raises(ClientFileChanged, match=r"changed since it was read"):
        apply(change)
    assert "Dracula" in path.read_text(encoding="utf-8")


def test_apply_writes_through_a_symlinked_file(folders: Folders, tmp_path: Path) -> None:
    dotfiles = tmp_path / "dotfiles" / "settings.json"
    dotfiles.parent.mkdir()
    dotfiles.write_text(SAMPLES["gemini-cli"], encoding="utf-8")
    path = prepare_client_folder(folders, "gemini-cli", "linux")
    path.symlink_to(dotfiles)

    apply(plan(folders, "gemini-cli"))

    assert path.is_symlink()
    assert "chat-ws" in load(dotfiles, "gemini-cli")["mcpServers"]


def test_a_project_file_gets_its_folder_on_apply_only(folders: Folders) -> None:
    change = plan(folders, "cursor")
    assert not (folders.cwd / ".cursor").exists()
    apply(change)
    assert (folders.cwd / ".cursor/mcp.json").is_file()
