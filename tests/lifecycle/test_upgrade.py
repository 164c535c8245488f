"""``multichat upgrade``: a three-way merge from a real older template revision."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from helpers import run_cli
from lifecycle_support import (
    NEW_COMMENT,
    OLD_COMMENT,
    OLD_INFO_LINE,
    assert_consistent,
    assert_same_tree,
    one_line,
    tree_snapshot,
)
from ruamel.yaml import YAML

from multichat.generator.template_source import TEMPLATE_ENV, template_digest

PACKAGE = Path("src/providers/alpha")
BASELINE = Path(".multichat/baseline/alpha")
USER_COMMENT = "# Tools take @tool(); I reworded this comment myself.\n"
USER_TAIL = "\n\n# a helper note of mine, at the end of the file\n"
USER_CLIENT_LINE = "\n# my own client tweak\n"


def test_upgrade_merges_both_sides_and_marks_conflicts(
    old_workspace: Path, current_template: Path, old_template: Path
) -> None:
    ws = old_workspace
    package = ws / PACKAGE
    assert OLD_INFO_LINE in (package / "tools/provider_info.py").read_text()
    # the user's edits: one the template also made (a conflict), three it did not touch
    instance = (package / "mcp_instance.py").read_text()
    (package / "mcp_instance.py").write_text(instance.replace(OLD_COMMENT, USER_COMMENT))
    (package / "tools/provider_info.py").write_text(
        (package / "tools/provider_info.py").read_text() + USER_TAIL
    )
    client_edited = (package / "api/client.py").read_text() + USER_CLIENT_LINE
    (package / "api/client.py").write_text(client_edited)
    (package / "NOTES.md").write_text((package / "NOTES.md").read_text() + "my note\n")
    beta_before = {p: v for p, v in tree_snapshot(ws).items() if "beta" in p}

    result = run_cli("upgrade", "provider", "alpha", cwd=ws)

    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "1 file(s) with conflicts" in result.stderr
    assert f"conflict: {PACKAGE}/mcp_instance.py" in result.stdout
    assert f"note: kept {PACKAGE}/NOTES.md" in result.stdout
    # both sides changed the same line: conflict markers with both versions
    merged = (package / "mcp_instance.py").read_text()
    assert "<<<<<<< yours\n" in merged
    assert ">>>>>>> template\n" in merged
    assert USER_COMMENT in merged
    assert NEW_COMMENT in merged
    # the template's change and the user's change to other lines of one file: both applied
    info = (package / "tools/provider_info.py").read_text()
    assert OLD_INFO_LINE not in info
    assert info == (ws / BASELINE / PACKAGE / "tools/provider_info.py").read_text() + USER_TAIL
    # a file only the user changed stays as the user left it
    assert (package / "api/client.py").read_text() == client_edited
    # the file the new template adds appears; the one it dropped goes unless the user edited it
    test_file = Path("tests/providers/alpha/test_alpha_provider.py")
    assert (ws / test_file).read_bytes() == (ws / BASELINE / test_file).read_bytes()
    assert not (package / "tools/legacy.py").exists()
    assert (package / "NOTES.md").read_text().endswith("my note\n")
    # the baseline and the answers now describe the current template
    assert not (ws / BASELINE / PACKAGE / "tools/legacy.py").exists()
    assert NEW_COMMENT in (ws / BASELINE / PACKAGE / "mcp_instance.py").read_text()
    answers = YAML(typ="safe").load((ws / ".multichat/providers/alpha.yml").read_text())
    assert "_src_path" not in answers  # no machine path in a committed file
    assert answers["_template_digest"] == template_digest()  # the current template's
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(TEMPLATE_ENV, str(old_template))
        assert answers["_template_digest"] != template_digest()
    assert {p: v for p, v in tree_snapshot(ws).items() if "beta" in p} == beta_before

    # once the user resolves the conflict, a second upgrade has nothing to do
    (package / "mcp_instance.py").write_text(instance.replace(OLD_COMMENT, USER_COMMENT))
    resolved = tree_snapshot(ws)
    again = run_cli("upgrade", "provider", "alpha", cwd=ws)

    assert again.returncode == 0, (again.stdout, again.stderr)
    assert again.stdout.strip() == "alpha: up to date"
    assert_same_tree(ws, resolved)


def test_upgrade_all_handles_every_generated_provider(old_workspace: Path) -> None:
    ws = old_workspace

    result = run_cli("upgrade", "--all", cwd=ws)

    assert result.returncode == 0, (result.stdout, result.stderr)
    assert "alpha:" in result.stdout.splitlines()
    assert "beta:" in result.stdout.splitlines()
    for name in ("alpha", "beta"):
        package = ws / "src" / "providers" / name
        baseline = ws / ".multichat" / "baseline" / name
        assert OLD_INFO_LINE not in (package / "tools/provider_info.py").read_text()
        assert NEW_COMMENT in (package / "mcp_instance.py").read_text()
        assert not (package / "tools/legacy.py").exists()
        assert not (package / "NOTES.md").exists()
        for file in baseline.rglob("*"):
            if file.is_file():
                relative = file.relative_to(baseline)
                assert (ws / relative).read_bytes() == file.read_bytes(), relative
    assert assert_consistent(ws) == {"alpha", "beta"}
    upgraded = tree_snapshot(ws)

    again = run_cli("upgrade", "--all", cwd=ws)

    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines() == ["alpha: up to date", "beta: up to date"]
    assert_same_tree(ws, upgraded)


def test_provider_without_baseline_or_answers_is_refused(old_workspace: Path) -> None:
    ws = old_workspace
    shutil.rmtree(ws / ".multichat" / "baseline" / "alpha")
    (ws / ".multichat" / "providers" / "beta.yml").unlink()
    before = tree_snapshot(ws)

    no_baseline = run_cli("upgrade", "provider", "alpha", cwd=ws)
    no_answers = run_cli("upgrade", "provider", "beta", cwd=ws)

    line = one_line(no_baseline, 2)
    assert "baseline" in line, line
    assert "--force" in line, line
    line = one_line(no_answers, 2)
    assert ".multichat/providers/beta.yml" in line, line
    assert_same_tree(ws, before)


def test_check_fails_when_behind_or_conflicting_and_writes_nothing(old_workspace: Path) -> None:
    import json

    ws = old_workspace
    instance = ws / PACKAGE / "mcp_instance.py"
    instance.write_text(instance.read_text().replace(OLD_COMMENT, USER_COMMENT))
    before = tree_snapshot(ws)

    dry = run_cli("upgrade", "provider", "alpha", "--dry-run", cwd=ws)
    check = run_cli("upgrade", "provider", "alpha", "--check", cwd=ws)
    as_json = run_cli("upgrade", "--all", "--check", "--json", cwd=ws)

    assert dry.returncode == 0, dry.stderr  # a dry run shows; --check is the gate
    assert check.returncode == 1, (check.stdout, check.stderr)
    assert "not up to date: alpha" in check.stderr
    assert as_json.returncode == 1, as_json.stderr
    report = json.loads(as_json.stdout)
    assert report["up_to_date"] is False
    alpha, beta = report["providers"]
    assert (alpha["provider"], alpha["up_to_date"]) == ("alpha", False)
    assert alpha["conflicts"] == [f"{PACKAGE.as_posix()}/mcp_instance.py"]
    assert {"path": f"{PACKAGE.as_posix()}/tools/provider_info.py", "change": "modify"} in (
        alpha["changes"]
    )
    assert beta["conflicts"] == []
    assert beta["up_to_date"] is False  # behind the template, without conflicts
    assert_same_tree(ws, before)


def test_check_passes_once_upgraded(old_workspace: Path) -> None:
    import json

    upgraded = run_cli("upgrade", "--all", cwd=old_workspace)
    assert upgraded.returncode == 0, (upgraded.stdout, upgraded.stderr)

    check = run_cli("upgrade", "--all", "--check", "--json", cwd=old_workspace)

    assert check.returncode == 0, (check.stdout, check.stderr)
    report = json.loads(check.stdout)
    assert report["up_to_date"] is True
    assert [p["up_to_date"] for p in report["providers"]] == [True, True]


def test_upgrade_json_needs_a_dry_run_or_check(old_workspace: Path) -> None:
    before = tree_snapshot(old_workspace)

    result = run_cli("upgrade", "provider", "alpha", "--json", cwd=old_workspace)

    assert "--json goes with --dry-run or --check" in one_line(result, 2)
    assert_same_tree(old_workspace, before)
