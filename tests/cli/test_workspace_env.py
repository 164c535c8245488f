"""workspace_multichat: the workspace's own multichat, this one with a note, or an error when the
workspace pins another. (tests/e2e/test_e2e_portable_workspace.py hands over for real.)"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from multichat import __version__
from multichat.cli.workspace_env import workspace_multichat
from multichat.errors import UserError


def workspace(root: Path, requirement: str, *, source: bool = False, multichat: bool = False):
    venv = root / ".venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text(f"home = {Path(sys.executable).parent}\n")
    if multichat:
        (venv / "bin" / "multichat").write_text("#!/bin/sh\n")
    text = f'[project]\nname = "ws"\ndependencies = ["{requirement}"]\n'
    if source:
        text += '[tool.uv.sources]\nmultichat-mcp = { git = "https://example.com/mc.git" }\n'
    (root / "pyproject.toml").write_text(text)
    return root


def test_the_workspaces_own_multichat_is_preferred(tmp_path: Path):
    root = workspace(tmp_path, "multichat-mcp", multichat=True)
    assert workspace_multichat(root) == root / ".venv" / "bin" / "multichat"


def test_no_environment_means_this_multichat_without_a_word(tmp_path: Path, capsys):
    assert workspace_multichat(tmp_path) is None
    assert capsys.readouterr().err == ""


def test_an_environment_without_multichat_falls_back_with_one_note(tmp_path: Path, capsys):
    root = workspace(tmp_path, f"multichat-mcp>={__version__}")
    assert workspace_multichat(root) is None
    note = capsys.readouterr().err
    assert note.count("\n") == 1
    assert note.startswith(f"multichat: note: {root / '.venv'} has no multichat; using ")
    assert f"multichat {__version__} from {sys.prefix}" in note


def test_a_range_this_multichat_misses_is_kept(tmp_path: Path):
    root = workspace(tmp_path, "multichat-mcp>=99")
    with pytest.raises(UserError, match=rf"it requires multichat-mcp>=99, this is {__version__}"):
        workspace_multichat(root)


def test_a_source_the_workspace_names_is_kept(tmp_path: Path):
    root = workspace(tmp_path, "multichat-mcp", source=True)
    with pytest.raises(UserError, match=r"from https://example.com/mc.git .*run `uv sync`"):
        workspace_multichat(root)
