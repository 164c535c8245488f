"""Fixtures shared by every test: fresh workspaces and the installed console script."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from multichat.runtime import config as runtime_config

BIN = Path(sys.executable).parent
MULTICHAT = str(BIN / "multichat")


@pytest.fixture(autouse=True)
def _isolated_config(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No test sees another test's active config or the developer's MULTICHAT_* variables."""
    for key in list(os.environ):
        if key.startswith("MULTICHAT_"):
            monkeypatch.delenv(key)
    runtime_config.use_config(None)
    yield
    runtime_config.use_config(None)


def run_cli(
    *args: str, cwd: Path, timeout: float = 120, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the installed ``multichat`` console script in a subprocess."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("MULTICHAT_")}
    full_env.update(env or {})
    return subprocess.run(
        [MULTICHAT, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=full_env,
        stdin=subprocess.DEVNULL,
        check=False,
    )


@pytest.fixture(scope="session")
def _workspace_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One rendered workspace (no providers), copied for each test that needs one."""
    from multichat.generator.workspace import create_workspace

    folder = tmp_path_factory.mktemp("template") / "ws"
    create_workspace(folder)
    return folder


@pytest.fixture
def workspace(_workspace_template: Path, tmp_path: Path) -> Path:
    """A fresh, empty workspace in ``tmp_path / "ws"``."""
    target = tmp_path / "ws"
    shutil.copytree(_workspace_template, target)
    return target


@pytest.fixture
def add_provider(workspace: Path) -> Callable[..., Path]:
    """Generate a provider into ``workspace`` in-process; returns its package folder."""
    from multichat.generator.provider import add_provider as generate

    def add(name: str, **data: object) -> Path:
        generate(name, config_path=workspace / "provider-config.yaml", data=dict(data))
        return workspace / "src" / "providers" / name

    return add
