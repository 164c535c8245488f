"""``--dry-run`` on every command that writes: shows each change, writes nothing, exits 0."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from helpers import run_cli
from lifecycle_support import (
    CONFIG,
    NEW_COMMENT,
    OLD_COMMENT,
    OLD_INFO_LINE,
    assert_same_tree,
    tree_snapshot,
)

LISTED = re.compile(r"^(create|modify|delete)\s+(\S+)$")


def listed(stdout: str) -> dict[str, str]:
    """``{path: kind}`` from the ``create  path`` lines of a dry run."""
    found = {}
    for line in stdout.splitlines():
        match = LISTED.match(line)
        if match:
            found[match[2]] = match[1]
    return found


def user_files(tree: dict[str, str]) -> set[str]:
    """Files of a snapshot outside multichat's bookkeeping folder."""
    return {p for p, v in tree.items() if v != "dir" and not p.startswith(".multichat/")}


def test_init_dry_run_lists_every_file_and_writes_nothing(tmp_path: Path, workspace: Path) -> None:
    (tmp_path / "dry").mkdir()
    (tmp_path / "dry" / "empty").mkdir()
    before = tree_snapshot(tmp_path / "dry")

    new_folder = run_cli("init", "ws", "--dry-run", cwd=tmp_path / "dry")
    empty_folder = run_cli("init", "empty", "--dry-run", cwd=tmp_path / "dry")

    assert new_folder.returncode == 0, new_folder.stderr
    assert empty_folder.returncode == 0, empty_folder.stderr
    assert_same_tree(tmp_path / "dry", before)
    expected = {p for p, v in tree_snapshot(workspace).items() if v != "dir"}
    assert listed(new_folder.stdout) == {f"ws/{p}": "create" for p in expected}
    assert listed(empty_folder.stdout) == {f"empty/{p}": "create" for p in expected}
    assert "nothing was written" in new_folder.stdout


def test_new_provider_dry_run_shows_files_and_config_diff(
    workspace: Path, add_provider: Callable[..., Path]
) -> None:
    add_provider("alpha")
    before = tree_snapshot(workspace)

    result = run_cli("new", "provider", "beta", "--dry-run", cwd=workspace)

    assert result.returncode == 0, result.stderr
    assert_same_tree(workspace, before)
    shown = listed(result.stdout)
    assert shown[CONFIG] == "modify"
    assert "--- a/provider-config.yaml" in result.stdout
    assert "+++ b/provider-config.yaml" in result.stdout
    assert re.search(r"^\+  beta:$", result.stdout, re.MULTILINE), result.stdout
    assert re.search(r"^\+    port: 8001$", result.stdout, re.MULTILINE), result.stdout
    # the listing is exactly what the real command then writes
    applied = run_cli("new", "provider", "beta", cwd=workspace)
    assert applied.returncode == 0, applied.stderr
    after = tree_snapshot(workspace)
    written = {p for p in user_files(after) if before.get(p) != after[p]}
    assert set(shown) == written
    assert {p for p, kind in shown.items() if kind == "create"} == written - {CONFIG}


def test_remove_provider_dry_run_shows_deletions_and_config_diff(
    workspace: Path, add_provider: Callable[..., Path]
) -> None:
    add_provider("alpha")
    add_provider("beta")
    before = tree_snapshot(workspace)

    result = run_cli("remove", "provider", "alpha", "--dry-run", cwd=workspace)

    assert result.returncode == 0, result.stderr
    assert_same_tree(workspace, before)
    shown = listed(result.stdout)
    alpha_files = {
        p
        for p in user_files(before)
        if p.startswith(("src/providers/alpha/", "tests/providers/alpha/"))
    }
    assert alpha_files, before
    assert shown == {**{p: "delete" for p in alpha_files}, CONFIG: "modify"}
    assert "--- a/provider-config.yaml" in result.stdout
    assert re.search(r"^-  alpha:$", result.stdout, re.MULTILINE), result.stdout
    assert not re.search(r"^-  beta:$", result.stdout, re.MULTILINE), result.stdout


def test_upgrade_provider_dry_run_shows_merge_and_writes_nothing(old_workspace: Path) -> None:
    before = tree_snapshot(old_workspace)

    result = run_cli("upgrade", "provider", "alpha", "--dry-run", cwd=old_workspace)

    assert result.returncode == 0, (result.stdout, result.stderr)
    assert_same_tree(old_workspace, before)
    package = "src/providers/alpha"
    assert listed(result.stdout) == {
        f"{package}/tools/provider_info.py": "modify",
        f"{package}/mcp_instance.py": "modify",
        f"{package}/NOTES.md": "delete",
        f"{package}/tools/legacy.py": "delete",
        "tests/providers/alpha/test_alpha_provider.py": "create",
    }
    assert f"--- a/{package}/tools/provider_info.py" in result.stdout
    assert f"-{OLD_INFO_LINE.rstrip()}" in result.stdout.splitlines()
    assert f"-{OLD_COMMENT.rstrip()}" in result.stdout.splitlines()
    assert f"+{NEW_COMMENT.rstrip()}" in result.stdout.splitlines()
    assert "nothing was changed" in result.stdout
