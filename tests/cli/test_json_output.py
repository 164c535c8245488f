"""``--json`` for scripts: ``doctor`` and ``new provider --dry-run`` (schemas in docs/cli.md)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from helpers import run_cli, tree_snapshot


def test_doctor_json(workspace: Path, add_provider: Callable[..., Path]) -> None:
    package = add_provider("alpha")
    (package / "mcp_instance.py").unlink()  # an error doctor must report

    result = run_cli("doctor", "--json", cwd=workspace)

    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert report["providers"] == 1
    assert report["errors"] >= 1
    errors = [f for f in report["findings"] if f["level"] == "error"]
    assert len(errors) == report["errors"]
    assert {"provider", "level", "message", "fix"} <= set(errors[0])
    assert any("mcp_instance.py" in f["message"] for f in errors), errors


def test_doctor_json_on_a_healthy_workspace_exits_0(
    workspace: Path, add_provider: Callable[..., Path]
) -> None:
    add_provider("alpha")

    result = run_cli("doctor", "--json", cwd=workspace)

    report = json.loads(result.stdout)
    assert report["errors"] == 0
    assert result.returncode == 0, result.stdout


def test_new_provider_dry_run_json(workspace: Path) -> None:
    before = tree_snapshot(workspace)

    result = run_cli("new", "provider", "alpha", "--dry-run", "--json", cwd=workspace)

    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    assert plan["provider"] == "alpha"
    changes = {change["path"]: change["change"] for change in plan["changes"]}
    assert changes["src/providers/alpha/mcp_instance.py"] == "create"
    assert changes["provider-config.yaml"] == "modify"
    assert tree_snapshot(workspace) == before


def test_new_provider_json_needs_dry_run(workspace: Path) -> None:
    result = run_cli("new", "provider", "alpha", "--json", cwd=workspace)

    assert result.returncode == 2
    assert "--json goes with --dry-run" in result.stderr
    assert not (workspace / "src" / "providers" / "alpha").exists()


def test_init_dry_run_json(tmp_path: Path) -> None:
    result = run_cli("init", "ws", "--dry-run", "--json", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    assert plan["directory"] == str(tmp_path / "ws")
    assert {"provider-config.yaml", ".gitignore", "src/server.py"} <= set(plan["files"])
    assert list(tmp_path.iterdir()) == []
