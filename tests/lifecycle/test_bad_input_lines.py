"""Bad input and refused writes found by trying the generator commands as a user would: each is
one line and a non-zero exit, the workspace is left as it was, and the advice given works."""

from __future__ import annotations

import errno
import importlib
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import run_cli, tree_snapshot
from lifecycle_support import assert_same_tree, one_line

from multichat.generator import changes as changes_module

cli_main = importlib.import_module("multichat.cli.main")  # the package's ``main`` shadows it

CONFIG = "provider-config.yaml"


def _new(workspace: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli("new", "provider", *args, "--defaults", cwd=workspace)


def test_a_full_disk_while_applying_is_one_line_and_every_file_is_put_back(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The disk fills as the config, written last, is replaced: the rendered files are already
    # in place and must go again.
    before = tree_snapshot(workspace)
    real_replace = os.replace

    def replace(source: str, target: str) -> None:
        if Path(target).name == CONFIG:
            raise OSError(errno.ENOSPC, "No space left on device", target)
        real_replace(source, target)

    monkeypatch.setattr(changes_module.os, "replace", replace)
    monkeypatch.chdir(workspace)
    code = cli_main._run(["new", "provider", "alpha", "--defaults"])

    error = capsys.readouterr().err
    assert code == 1
    assert error.count("\n") == 1, error
    assert "No space left on device" in error
    assert "every file was put back as it was" in error
    assert_same_tree(workspace, before)


def test_init_where_a_file_stands_in_the_path_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("x")

    line = one_line(run_cli("init", "a-file/ws", cwd=tmp_path), 1)

    assert "could not write the workspace" in line
    assert "nothing was left" in line
    assert sorted(path.name for path in tmp_path.iterdir()) == ["a-file"]


def test_an_os_error_no_command_expected_is_one_line(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # .multichat made a file: reading the provider's answers there fails with ENOTDIR.
    state = workspace / ".multichat"
    for entry in sorted(state.rglob("*"), reverse=True):
        entry.rmdir() if entry.is_dir() else entry.unlink()
    state.rmdir()
    state.write_text("not a folder\n")
    before = tree_snapshot(workspace)

    line = one_line(_new(workspace, "alpha"), 1)

    assert line.startswith("multichat: error: Not a directory: "), line
    assert line.endswith("(run again with --debug for the traceback)")
    assert_same_tree(workspace, before)


@pytest.mark.parametrize("folder", ["/tmp", "."])
def test_a_config_path_that_is_a_folder_is_one_line(workspace: Path, folder: str) -> None:
    line = one_line(run_cli("doctor", "--config", folder, cwd=workspace), 2)

    assert "is a folder, not a file" in line
    assert f"--config {(workspace / folder).resolve() / CONFIG}" in line


@pytest.mark.parametrize("value", ["[a", "{a: 1}", "[read, null]", "123"])
def test_scopes_that_are_not_a_list_of_scopes_are_refused(workspace: Path, value: str) -> None:
    before = tree_snapshot(workspace)

    line = one_line(_new(workspace, "alpha", "--data", f"scopes={value}"), 2)

    assert "--data scopes= takes a scope or a list of scopes" in line
    assert_same_tree(workspace, before)


def test_scopes_as_one_scope_or_a_list_are_taken(workspace: Path) -> None:
    assert _new(workspace, "alpha", "--data", "scopes=read").returncode == 0
    assert _new(workspace, "beta", "--data", "scopes=[read, write]").returncode == 0
    text = (workspace / CONFIG).read_text()
    assert '- "read"\n' in text
    assert '- "write"\n' in text


def test_a_broken_answers_file_stops_upgrade_with_one_line(
    workspace: Path, add_provider: Callable[..., Path]
) -> None:
    add_provider("alpha")
    answers = workspace / ".multichat" / "providers" / "alpha.yml"
    answers.write_text(answers.read_text() + ": : [\n")
    before = tree_snapshot(workspace)

    line = one_line(run_cli("upgrade", "provider", "alpha", cwd=workspace), 2)

    assert ".multichat/providers/alpha.yml:" in line
    assert "is not valid YAML" in line
    assert "multichat new provider alpha --force" in line
    assert_same_tree(workspace, before)


def test_inbox_cannot_name_a_provider(workspace: Path) -> None:
    before = tree_snapshot(workspace)

    line = one_line(_new(workspace, "inbox"), 2)

    assert "invalid provider name 'inbox'" in line
    assert_same_tree(workspace, before)


def test_a_folder_left_without_its_entry_is_taken_over_as_the_messages_say(
    workspace: Path, add_provider: Callable[..., Path]
) -> None:
    add_provider("alpha")
    config = workspace / CONFIG
    text = config.read_text()
    entry_start = text.index("  alpha:")
    config.write_text(text[:entry_start])  # the entry, the last one, edited out by hand

    removal = one_line(run_cli("remove", "provider", "alpha", "--yes", cwd=workspace), 2)
    adding = one_line(_new(workspace, "alpha"), 2)

    assert "`multichat new provider alpha --force` takes over its folder" in removal
    assert "pass --force to generate over it" in adding
    assert _new(workspace, "alpha", "--force").returncode == 0
    assert "  alpha:" in config.read_text()


def test_an_entry_without_its_folder_is_mended_as_doctor_says(
    workspace: Path, add_provider: Callable[..., Path]
) -> None:
    import shutil

    add_provider("alpha")
    shutil.rmtree(workspace / "src" / "providers" / "alpha")

    report = run_cli("doctor", cwd=workspace)

    assert "`multichat new provider alpha --force` or remove its entry" in report.stdout
    assert _new(workspace, "alpha", "--force").returncode == 0
    assert (workspace / "src" / "providers" / "alpha" / "mcp_instance.py").is_file()


def test_next_steps_quote_a_folder_name_with_spaces(tmp_path: Path) -> None:
    result = run_cli("init", "my ws", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert "  cd 'my ws'\n" in result.stdout
