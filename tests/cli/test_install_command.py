"""``multichat install CLIENT`` through the console script, on temporary home folders."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
from helpers import MULTICHAT, clean_env


@pytest.fixture
def ws(workspace: Path, add_provider) -> Path:
    add_provider("alpha")
    add_provider("beta")
    return workspace


def install(ws: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [MULTICHAT, "install", *args],
        cwd=ws,
        capture_output=True,
        text=True,
        timeout=120,
        env=clean_env(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config")),
        stdin=subprocess.DEVNULL,
        check=False,
    )


def test_claude_desktop_gets_the_entry_and_keeps_everything_else(ws: Path, tmp_path: Path):
    home = tmp_path / "home"
    settings = home / ".config" / "Claude" / "claude_desktop_config.json"
    settings.parent.mkdir(parents=True)
    original = '{\n    "theme": "dark",\n    "mcpServers": {"other": {"command": "x"}}\n}\n'
    settings.write_text(original)

    dry = install(ws, home, "claude-desktop", "--provider", "alpha", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "(dry run: nothing was written)" in dry.stdout
    assert settings.read_text() == original

    done = install(ws, home, "claude-desktop", "--provider", "alpha")
    assert done.returncode == 0, done.stderr
    data = json.loads(settings.read_text())
    assert data["theme"] == "dark"
    assert data["mcpServers"]["other"] == {"command": "x"}
    entry = data["mcpServers"][ws.name]
    assert entry["args"] == [
        "run",
        "--directory",
        str(ws),
        "multichat",
        "run",
        "--provider",
        "alpha",
    ]

    removed = install(ws, home, "claude-desktop", "--remove")
    assert removed.returncode == 0, removed.stderr
    assert settings.read_text() == original


def test_a_file_inside_the_workspace_names_no_folder_of_this_machine(ws: Path, tmp_path: Path):
    home = tmp_path / "home"
    home.mkdir()
    for client, relative, key in (
        ("claude-code", ".mcp.json", "mcpServers"),
        ("cursor", ".cursor/mcp.json", "mcpServers"),
        ("vscode", ".vscode/mcp.json", "servers"),
    ):
        done = install(ws, home, client, "--env", "MULTICHAT_ALPHA_TOKEN")
        assert done.returncode == 0, (client, done.stderr)
        text = (ws / relative).read_text()
        assert str(ws) not in text, (client, text)
        assert str(tmp_path) not in text, (client, text)
        entry = json.loads(text)[key][ws.name]
        assert entry["command"] == "uv"
        assert "MULTICHAT_ALPHA_TOKEN" in json.dumps(entry)


def test_bad_input_is_one_line_and_changes_nothing(ws: Path, tmp_path: Path):
    home = tmp_path / "home"
    settings = home / ".config" / "Claude" / "claude_desktop_config.json"
    settings.parent.mkdir(parents=True)
    settings.write_text("{ not json")
    for args, phrase in (
        (("nope",), "unknown client 'nope'"),
        (("claude-desktop",), str(settings)),
        (("claude-desktop", "--provider", "gamma"), "no provider 'gamma'"),
    ):
        result = install(ws, home, *args)
        assert result.returncode == 2, (args, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert phrase in result.stderr
    assert settings.read_text() == "{ not json"


def test_mcp_json_prints_the_entry(ws: Path, tmp_path: Path):
    printed = install(ws, tmp_path, "mcp-json", "--name", "chats")
    assert printed.returncode == 0, printed.stderr
    entry = json.loads(printed.stdout)["mcpServers"]["chats"]
    assert entry["args"][:3] == ["run", "--directory", str(ws)]


def test_dry_run_json_names_the_file_and_the_diff(ws: Path, tmp_path: Path):
    home = tmp_path / "home"
    (home / ".gemini").mkdir(parents=True)

    dry = install(ws, home, "gemini-cli", "--dry-run", "--json")

    assert dry.returncode == 0, dry.stderr
    report = json.loads(dry.stdout)
    assert report["client"] == "gemini-cli"
    assert report["path"] == str(home / ".gemini" / "settings.json")
    assert report["changed"] is True
    assert '"mcpServers"' in report["diff"]
    assert not (home / ".gemini" / "settings.json").exists()


def test_a_project_file_naming_a_path_of_this_machine_is_warned_about(ws: Path, tmp_path: Path):
    """A workspace that installs multichat from the index, a multichat the shell does not find."""
    pyproject = ws / "pyproject.toml"
    pyproject.write_text(re.sub(r"\[tool\.uv\.sources\]\n(.+\n)+", "", pyproject.read_text()))
    result = subprocess.run(
        [MULTICHAT, "install", "claude-code"],
        cwd=ws,
        capture_output=True,
        text=True,
        timeout=120,
        env=clean_env(HOME=str(tmp_path / "home"), PATH=os.defpath),
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    entry = json.loads((ws / ".mcp.json").read_text())["mcpServers"][ws.name]
    assert entry == {"command": MULTICHAT, "args": ["run", "--config", "./provider-config.yaml"]}
    assert f"warning: the entry starts {MULTICHAT}, a path of this machine" in result.stderr
