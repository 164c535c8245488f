"""Help for people: ``-h``, readable metavars, option groups, exit codes, and a light start."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from helpers import MULTICHAT, clean_env, run_cli

from multichat.cli.app import app
from multichat.cli.help_format import HumanCommand, HumanGroup
from multichat.errors import EXIT_CODES


def _commands() -> list[tuple[str, ...]]:
    """Every command path of the app (groups included), from the Typer app itself."""
    paths: list[tuple[str, ...]] = [()]
    root = typer.main.get_command(app)

    def walk(command, path):
        for name, sub in getattr(command, "commands", {}).items():
            paths.append((*path, name))
            walk(sub, (*path, name))

    walk(root, ())
    return paths


COMMANDS = _commands()


def test_every_command_uses_the_readable_help_classes() -> None:
    root = typer.main.get_command(app)
    seen = [root]
    while seen:
        command = seen.pop()
        assert isinstance(command, (HumanCommand, HumanGroup)), command.name
        seen.extend(getattr(command, "commands", {}).values())


@pytest.mark.parametrize("path", COMMANDS, ids=lambda path: " ".join(path) or "multichat")
def test_dash_h_is_help_and_shows_no_python_types(tmp_path: Path, path: tuple[str, ...]) -> None:
    short = run_cli(*path, "-h", cwd=tmp_path)
    long = run_cli(*path, "--help", cwd=tmp_path)

    assert short.returncode == 0, short.stderr
    assert short.stdout == long.stdout
    assert short.stdout.startswith("Usage: multichat")
    python_types = re.findall(r"<[a-z_]+(?:\[[^\]]*\])?>|\{[A-Z_]+\}", short.stdout)
    assert python_types == [], short.stdout


def test_run_groups_its_http_options(tmp_path: Path) -> None:
    result = run_cli("run", "--help", cwd=tmp_path)

    sections = re.findall(r"^(\S[^:\n]*):$", result.stdout, re.MULTILINE)
    assert sections == ["Options", "HTTP", "Development", "Tools"], result.stdout
    http = result.stdout.split("\nHTTP:\n", 1)[1]
    for option in ("--host ADDRESS", "--port PORT", "--auth-token TOKEN", "--allowed-host HOST"):
        assert option in http


def test_main_help_groups_the_completion_options(tmp_path: Path) -> None:
    result = run_cli("--help", cwd=tmp_path)

    sections = re.findall(r"^(\S[^:\n]*):$", result.stdout, re.MULTILINE)
    assert sections == ["Options", "Shell completion", "Commands"], result.stdout


def test_exit_codes_are_in_the_epilog(tmp_path: Path) -> None:
    result = run_cli("--help", cwd=tmp_path)

    epilog = result.stdout.split("Exit codes:", 1)[1]
    for code, meaning in EXIT_CODES:
        assert re.search(rf"^\s+{code}\s+{re.escape(meaning)}$", epilog, re.MULTILINE), epilog


def test_docs_name_every_exit_code() -> None:
    docs = (Path(__file__).parents[2] / "docs" / "cli.md").read_text()

    for code, _ in EXIT_CODES:
        assert f"`{code}`" in docs


@pytest.mark.parametrize("flag", ["--help", "--version"])
def test_help_and_version_import_neither_rich_nor_completion(flag: str) -> None:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", MULTICHAT, flag],
        capture_output=True,
        text=True,
        timeout=60,
        env=clean_env(),
        check=False,
    )

    assert result.returncode == 0, result.stderr
    imported = {
        line.rsplit("|", 1)[1].strip()
        for line in result.stderr.splitlines()
        if line.startswith("import time:")
    }
    assert "multichat" in imported
    assert sorted(name for name in imported if name.split(".")[0] == "rich") == []
    assert "multichat.cli.completion" not in imported
