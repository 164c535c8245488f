"""The issue's sequence exactly as a new user types it: ``uv run ...`` inside the workspace.

``uv run`` in the workspace builds the workspace's own environment and must install *this*
multichat (from the checkout, through ``[tool.uv.sources]``), not the unrelated PyPI package.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from fastmcp import Client
from fastmcp.client.transports import StdioTransport
from helpers import MULTICHAT

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

UV = shutil.which("uv")


def _env() -> dict[str, str]:
    drop = ("MULTICHAT_", "PYTEST_", "VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT")
    return {k: v for k, v in os.environ.items() if not k.startswith(drop)}


def _uv(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    assert UV is not None, "uv must be on PATH (it runs this test suite)"
    return subprocess.run(
        [UV, *args],
        cwd=cwd,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
        check=False,
    )


async def test_uv_run_inside_the_workspace(tmp_path: Path):
    made = subprocess.run(
        [MULTICHAT, "init", "my-chats"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    workspace = tmp_path / "my-chats"
    assert "[tool.uv.sources]" in (workspace / "pyproject.toml").read_text()

    for name in ("alpha", "beta"):
        result = _uv("run", "multichat", "new", "provider", name, cwd=workspace)
        assert result.returncode == 0, result.stderr
    installed = _uv(
        "run",
        "python",
        "-c",
        "import multichat.runtime, sys; print(multichat.__file__)",
        cwd=workspace,
    )
    assert installed.returncode == 0, installed.stderr
    repo = Path(__file__).resolve().parents[2]
    assert Path(installed.stdout.strip()).is_relative_to(repo / "src")

    doctor = _uv("run", "multichat", "doctor", cwd=workspace)
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    tests = _uv("run", "pytest", "-q", cwd=workspace)
    assert tests.returncode == 0, tests.stdout + tests.stderr
    lint = _uv("run", "ruff", "check", cwd=workspace)
    assert lint.returncode == 0, lint.stdout + lint.stderr

    transport = StdioTransport(
        command=UV, args=["run", "multichat", "run"], cwd=str(workspace), env=_env()
    )
    async with Client(transport, timeout=120) as client:
        names = sorted(tool.name for tool in await client.list_tools())
    assert names == ["alpha_provider_info", "alpha_whoami", "beta_provider_info", "beta_whoami"]
