"""Validation shared by every command: names, unknown providers, broken configs, no workspace."""

from __future__ import annotations

import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from helpers import run_cli, tree_snapshot
from lifecycle_support import CONFIG, assert_same_tree, one_line

NAMED_COMMANDS = {
    "new": ("new", "provider", "{name}"),
    "remove": ("remove", "provider", "{name}", "--yes"),
    "upgrade": ("upgrade", "provider", "{name}"),
    "auth": ("auth", "{name}", "--status"),
    "run": ("run", "--provider", "{name}"),
}
CONFIG_COMMANDS = {
    "new": ("new", "provider", "gamma"),
    "remove": ("remove", "provider", "alpha", "--yes"),
    "upgrade": ("upgrade", "provider", "alpha"),
    "upgrade-all": ("upgrade", "--all"),
    "run": ("run",),
    "doctor": ("doctor",),
}


def _args(template: tuple[str, ...], name: str) -> list[str]:
    return [part.format(name=name) for part in template]


def run_all(
    commands: list[list[str]], cwd: Path
) -> list[tuple[list[str], subprocess.CompletedProcess[str]]]:
    """Run read-only commands two at a time (each is its own process); results in order."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda args: run_cli(*args, cwd=cwd), commands))
    return list(zip(commands, results, strict=True))


@pytest.fixture
def ws_alpha(workspace: Path) -> Path:
    """A workspace whose config names one provider, ``alpha``."""
    config = workspace / CONFIG
    config.write_text(config.read_text() + '  alpha:\n    name: "Alpha"\n    port: 8000\n')
    return workspace


@pytest.mark.parametrize("command", sorted(NAMED_COMMANDS))
def test_bad_name_is_rejected_by_every_command(ws_alpha: Path, command: str) -> None:
    before = tree_snapshot(ws_alpha)

    result = run_cli(*_args(NAMED_COMMANDS[command], "Bad-Name"), cwd=ws_alpha)

    line = one_line(result, 2)
    assert "invalid provider name 'Bad-Name'" in line, line
    assert "lowercase Python identifier" in line, line
    assert_same_tree(ws_alpha, before)


@pytest.mark.parametrize("command", ["remove", "upgrade", "auth", "run"])
def test_unknown_provider_exits_2(ws_alpha: Path, command: str) -> None:
    before = tree_snapshot(ws_alpha)

    result = run_cli(*_args(NAMED_COMMANDS[command], "nosuch"), cwd=ws_alpha)

    line = one_line(result, 2)
    assert "no provider 'nosuch'" in line, line
    assert "alpha" in line, line  # names the configured ones
    assert_same_tree(ws_alpha, before)


BROKEN = {
    "unclosed-flow": ("providers:\n  alpha: {name: x\n", None),
    "bad-indent": ("providers:\n  alpha:\n    name: x\n   port: 1\n", None),
    "tab": ("providers:\n\talpha: {}\n", None),
}


@pytest.mark.parametrize("broken", sorted(BROKEN))
def test_config_that_does_not_parse_is_one_line_and_nothing_written(
    ws_alpha: Path, broken: str
) -> None:
    config = ws_alpha / CONFIG
    config.write_text(BROKEN[broken][0])
    before = tree_snapshot(ws_alpha)
    where = re.compile(rf"^multichat: error: {re.escape(str(config.resolve()))}:\d+:\d+: ")

    # one broken file goes through every command; the others through two
    commands = [
        list(args)
        for command, args in CONFIG_COMMANDS.items()
        if broken == "unclosed-flow" or command in ("new", "remove")
    ]
    for args, result in run_all(commands, ws_alpha):
        line = one_line(result, 2)  # a broken config is bad input
        assert where.match(line), (args, line)
    assert_same_tree(ws_alpha, before)


def test_providers_as_a_list_is_one_line(ws_alpha: Path) -> None:
    config = ws_alpha / CONFIG
    config.write_text("# mine\nproviders:\n  - alpha\n  - beta\n")
    before = tree_snapshot(ws_alpha)
    where = re.compile(rf"^multichat: error: {re.escape(str(config.resolve()))}:2\b")

    for args, result in run_all([list(a) for a in CONFIG_COMMANDS.values()], ws_alpha):
        line = one_line(result, 2)  # a broken config is bad input
        assert where.match(line), (args, line)
        assert "`providers` must be a mapping" in line, (args, line)
    assert_same_tree(ws_alpha, before)


def test_no_workspace_up_the_tree_says_init_or_config(tmp_path: Path) -> None:
    nowhere = tmp_path / "nowhere" / "deeper"
    nowhere.mkdir(parents=True)
    assert not [p for p in (nowhere, *nowhere.parents) if (p / CONFIG).is_file()]
    commands = [
        *(_args(NAMED_COMMANDS[c], "alpha") for c in ("new", "remove", "upgrade", "auth")),
        ["upgrade", "--all"],
        ["run"],
        ["doctor"],
    ]

    for args, result in run_all(commands, nowhere):
        line = one_line(result, 2)
        assert "multichat init" in line, (args, line)
        assert "--config" in line, (args, line)
    assert list(tmp_path.rglob("*")) == [tmp_path / "nowhere", nowhere]
