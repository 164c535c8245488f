"""invocation: which words hints give and which command a client entry starts, by how multichat
is installed. The environments are real folders (a venv's ``pyvenv.cfg``, console scripts, a
workspace's ``pyproject.toml``), and PATH is the shell's as a test sets it."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from multichat.invocation import UV_RUN, invocation, own_executable, venv_multichat

OWN = own_executable()


@pytest.fixture
def shell(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A PATH of one folder, outside any ``uv run``; tests put a ``multichat`` in it or not."""
    folder = tmp_path / "bin"
    folder.mkdir()
    monkeypatch.setenv("PATH", str(folder))
    monkeypatch.delenv("UV_RUN_RECURSION_DEPTH", raising=False)
    return folder


def make_workspace(root: Path, *, source: bool = False) -> Path:
    root.mkdir(parents=True)
    pyproject = '[project]\nname = "ws"\ndependencies = ["multichat-mcp>=0.2.0,<0.3"]\n'
    if source:
        pyproject += '[tool.uv.sources]\nmultichat-mcp = { path = "../mc", editable = true }\n'
    (root / "pyproject.toml").write_text(pyproject)
    return root


def make_venv(venv: Path, *, multichat: bool) -> Path:
    (venv / "bin").mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text(f"home = {Path(sys.executable).parent}\n")
    if multichat:
        (venv / "bin" / "multichat").write_text("#!/bin/sh\n")
    return venv


def test_a_multichat_the_shell_finds_is_named_multichat(shell: Path, tmp_path: Path):
    assert OWN is not None, "the tests run from an environment with the console script"
    (shell / "multichat").symlink_to(OWN)  # as `uv tool install` and pipx link it
    how = invocation(make_workspace(tmp_path / "ws"))
    assert (how.via_uv, how.on_path, how.serves_with_uv) == (False, True, False)
    assert how.words == "multichat"
    assert how.argv == [str(OWN)]


def test_another_multichat_on_path_is_not_this_one(shell: Path, tmp_path: Path):
    (shell / "multichat").write_text("#!/bin/sh\n")
    (shell / "multichat").chmod(0o755)
    how = invocation(make_workspace(tmp_path / "ws"))
    assert not how.on_path
    assert how.words == str(OWN)  # a path with no space needs no quotes


def test_uv_runs_path_is_not_the_shells(shell: Path, tmp_path: Path, monkeypatch):
    (shell / "multichat").symlink_to(OWN)
    monkeypatch.setenv("UV_RUN_RECURSION_DEPTH", "1")
    monkeypatch.setenv("VIRTUAL_ENV", sys.prefix)
    assert not invocation(make_workspace(tmp_path / "ws")).on_path


def test_a_workspace_that_follows_a_checkout_is_run_with_uv(shell: Path, tmp_path: Path):
    (shell / "multichat").symlink_to(OWN)
    how = invocation(make_workspace(tmp_path / "ws", source=True))
    assert (how.via_uv, how.serves_with_uv, how.words) == (True, True, UV_RUN)


def test_a_workspace_environment_with_multichat_serves_clients_with_uv(shell, tmp_path):
    (shell / "multichat").symlink_to(OWN)
    ws = make_workspace(tmp_path / "ws")
    make_venv(ws / ".venv", multichat=True)
    how = invocation(ws)
    assert how.serves_with_uv
    assert how.words == "multichat"  # the user runs this one; it hands over to .venv's


def test_an_environment_a_failed_uv_run_left_changes_nothing(shell, tmp_path):
    ws = make_workspace(tmp_path / "ws")
    make_venv(ws / ".venv", multichat=False)
    how = invocation(ws)
    assert not how.serves_with_uv
    assert how.words == str(OWN)


def test_the_workspaces_own_environment_is_run_with_uv(tmp_path: Path, monkeypatch):
    ws = make_workspace(tmp_path / "ws")
    venv = make_venv(ws / ".venv", multichat=True)
    monkeypatch.setattr(sys, "prefix", str(venv))
    assert invocation(ws).words == UV_RUN


def test_without_a_console_script_it_is_python_m(shell, tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "argv", [str(tmp_path / "__main__.py")])
    monkeypatch.setattr("sysconfig.get_path", lambda name: str(tmp_path / "none"))
    how = invocation(make_workspace(tmp_path / "ws"))
    assert how.executable is None
    assert how.argv == [sys.executable, "-m", "multichat"]


def test_the_started_script_wins_over_the_environments(tmp_path: Path, monkeypatch):
    link = tmp_path / "bin" / "multichat"
    link.parent.mkdir()
    link.symlink_to(OWN)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", [os.path.join("bin", "multichat"), "init"])
    assert own_executable() == link  # absolute, and the link (stable across upgrades)


def test_a_venv_without_pyvenv_cfg_is_no_environment(tmp_path: Path):
    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    (tmp_path / ".venv" / "bin" / "multichat").write_text("")
    assert venv_multichat(tmp_path / ".venv") is None
    (tmp_path / ".venv" / "pyvenv.cfg").write_text("")
    assert venv_multichat(tmp_path / ".venv") == tmp_path / ".venv" / "bin" / "multichat"
