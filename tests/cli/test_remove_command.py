"""``multichat remove provider``: the plan shows everything, and the user's work is never lost."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import run_cli, tree_snapshot

PACKAGE = "src/providers/alpha"


@pytest.fixture
def alpha(workspace: Path, add_provider: Callable[..., Path]) -> Path:
    """A workspace whose provider ``alpha`` was generated; returns its package folder."""
    return add_provider("alpha")


def test_dry_run_shows_the_plan_with_the_user_s_files_marked(workspace: Path, alpha: Path) -> None:
    (alpha / "NOTES.txt").write_text("mine\n")
    before = tree_snapshot(workspace)

    result = run_cli("remove", "provider", "alpha", "--dry-run", cwd=workspace)

    assert result.returncode == 0, result.stderr
    assert tree_snapshot(workspace) == before
    assert re.search(rf"^keep\s+{PACKAGE}/NOTES.txt\s+\(you added it", result.stdout, re.M)
    assert re.search(rf"^delete\s+{PACKAGE}/mcp_instance.py$", result.stdout, re.M)
    assert "refused without --force" in result.stdout


def test_a_generated_file_the_user_rewrote_is_protected(workspace: Path, alpha: Path) -> None:
    rewritten = alpha / "mcp_instance.py"
    rewritten.write_text(rewritten.read_text() + "# my change\n")
    before = tree_snapshot(workspace)

    dry = run_cli("remove", "provider", "alpha", "--dry-run", cwd=workspace)
    refused = run_cli("remove", "provider", "alpha", "--yes", cwd=workspace)

    assert re.search(rf"^keep\s+{PACKAGE}/mcp_instance.py\s+\(you changed it", dry.stdout, re.M)
    assert refused.returncode == 2
    assert f"{PACKAGE}/mcp_instance.py (changed)" in refused.stderr
    assert tree_snapshot(workspace) == before
    forced = run_cli("remove", "provider", "alpha", "--yes", "--force", cwd=workspace)
    assert forced.returncode == 0, forced.stderr
    assert not alpha.exists()


def test_byte_code_caches_are_counted_not_listed(workspace: Path, alpha: Path) -> None:
    cache = alpha / "__pycache__"
    cache.mkdir(exist_ok=True)
    (cache / "mcp_instance.cpython-311.pyc").write_bytes(b"\0")

    result = run_cli("remove", "provider", "alpha", "--dry-run", cwd=workspace)

    assert "__pycache__" not in result.stdout
    assert re.search(r"^\(and \d+ byte-code cache file\(s\)\)$", result.stdout, re.M)
    removed = run_cli("remove", "provider", "alpha", "--yes", cwd=workspace)
    assert removed.returncode == 0, removed.stderr
    assert not alpha.exists()


def test_token_shows_in_the_dry_run_without_yes(workspace: Path, alpha: Path) -> None:
    (alpha / "token.json").write_text('{"access_token": "x"}')

    kept = run_cli("remove", "provider", "alpha", "--dry-run", cwd=workspace)
    deleted = run_cli("remove", "provider", "alpha", "--dry-run", "--yes", cwd=workspace)

    assert re.search(rf"^keep\s+{PACKAGE}/token.json\s+\(a secret: --yes", kept.stdout, re.M)
    assert re.search(rf"^delete\s+{PACKAGE}/token.json$", deleted.stdout, re.M)


def test_dry_run_json(workspace: Path, alpha: Path) -> None:
    (alpha / "NOTES.txt").write_text("mine\n")
    (alpha / "token.json").write_text('{"access_token": "x"}')

    result = run_cli("remove", "provider", "alpha", "--dry-run", "--json", cwd=workspace)

    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    assert plan["provider"] == "alpha"
    assert plan["refused"] is True
    changes = {change["path"]: change["change"] for change in plan["changes"]}
    assert changes[f"{PACKAGE}/mcp_instance.py"] == "delete"
    assert changes["provider-config.yaml"] == "modify"
    assert {"path": f"{PACKAGE}/NOTES.txt", "reason": "added"} in plan["kept"]
    assert {"path": f"{PACKAGE}/token.json", "reason": "secret"} in plan["kept"]


def test_json_needs_dry_run(workspace: Path, alpha: Path) -> None:
    result = run_cli("remove", "provider", "alpha", "--json", "--yes", cwd=workspace)

    assert result.returncode == 2
    assert "--json goes with --dry-run" in result.stderr
    assert alpha.exists()
