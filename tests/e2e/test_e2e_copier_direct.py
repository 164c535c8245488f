"""Plain Copier straight from this repository renders both templates, as the CLI does."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
COPIER = str(Path(sys.executable).parent / "copier")


def _copier(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [COPIER, "copy", "--defaults", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=180,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def test_copier_copy_from_the_checkout(tmp_path: Path):
    if not (REPO / ".git").exists() or shutil.which("git") is None:
        pytest.fail("this test needs the repository as a git checkout")
    workspace = tmp_path / "ws"
    made = _copier("--data", "kind=workspace", str(REPO), str(workspace), cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert (workspace / "provider-config.yaml").is_file()
    assert (workspace / "src/mcp_core/engine/provider_loader.py").is_file()
    workspace_answers = (workspace / ".multichat/workspace.yml").read_text()

    added = _copier(
        "--overwrite",
        "--data",
        "kind=provider",
        "--data",
        "provider_name=zeta",
        str(REPO),
        str(workspace),
        cwd=workspace,
    )
    assert added.returncode == 0, added.stderr
    for contract_file in ("mcp_instance.py", "server_auth.py", "api/auth.py"):
        assert (workspace / "src/providers/zeta" / contract_file).is_file()
    assert "provider_name: zeta" in (workspace / ".multichat/providers/zeta.yml").read_text()
    assert (workspace / ".multichat/workspace.yml").read_text() == workspace_answers
    # Plain Copier cannot edit provider-config.yaml in place: the entry lands beside it.
    fragment = (workspace / "zeta.provider-config.yaml").read_text()
    assert fragment.startswith("zeta:\n")


def test_copier_refuses_a_bad_provider_name(tmp_path: Path):
    result = _copier(
        "--data",
        "kind=provider",
        "--data",
        "provider_name=Bad-Name",
        str(REPO),
        str(tmp_path / "ws"),
        cwd=tmp_path,
    )
    assert result.returncode != 0
    assert "lowercase Python identifier" in result.stdout + result.stderr
