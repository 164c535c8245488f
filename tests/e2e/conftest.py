"""Fixtures of the end-to-end tests; helpers live in ``e2e_support`` and ``tests/helpers.py``."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import run_cli, stop_process


@pytest.fixture(scope="session")
def cli_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace made by the console script: ``init``, then ``new provider alpha`` and ``beta``.

    Never run or changed itself: tests take copies with ``copy_workspace``.
    """
    parent = tmp_path_factory.mktemp("cli-template")
    for args, cwd in (
        (("init", "my-chats"), parent),
        (("new", "provider", "alpha"), parent / "my-chats"),
        (("new", "provider", "beta"), parent / "my-chats"),
    ):
        result = run_cli(*args, cwd=cwd)
        assert result.returncode == 0, (args, result.stdout, result.stderr)
    return parent / "my-chats"


@pytest.fixture
def copy_workspace(cli_workspace: Path, tmp_path: Path) -> Callable[..., Path]:
    """Copy the alpha+beta workspace to ``tmp_path / NAME`` and return the copy."""

    def copy(name: str = "my-chats") -> Path:
        target = tmp_path / name
        shutil.copytree(cli_workspace, target)
        return target

    return copy


@pytest.fixture
def reap() -> Iterator[Callable[[subprocess.Popen[Any]], subprocess.Popen[Any]]]:
    """Register subprocesses to stop (terminate, then kill) when the test ends."""
    started: list[subprocess.Popen[Any]] = []

    def register(process: subprocess.Popen[Any]) -> subprocess.Popen[Any]:
        started.append(process)
        return process

    yield register
    for process in started:
        stop_process(process)
