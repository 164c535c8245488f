"""``multichat upgrade provider``: bring a generated provider up to the installed template.

A three-way merge per file, like ``git merge-file``: the common ancestor is the provider as it
was generated (``.multichat/baseline/NAME``), "ours" is the user's file, "theirs" is what the
installed template renders from the recorded answers. A change on one side only is taken; a
change on both sides to the same lines becomes conflict markers and is listed. The baseline and
answers then move to the new render, so the next upgrade starts from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import merge3

from multichat import contract
from multichat.contract import validate_provider_name
from multichat.errors import UserError
from multichat.generator import trees
from multichat.generator.answers import recorded_answers
from multichat.generator.changes import ChangeSet
from multichat.generator.transaction import WorkspaceChange, checked_render, workspace_transaction
from multichat.runtime.config import read_config_text

CONFLICT_MARK = b"\n<<<<<<< yours\n"


@dataclass
class UpgradePlan:
    """The changes, the files left with conflict markers, and files kept on purpose."""

    changes: ChangeSet
    conflicts: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def plan_upgrade(change: WorkspaceChange, name: str) -> UpgradePlan:
    """Plan into ``change`` what brings ``name`` to the installed template, keeping edits."""
    validate_provider_name(name)
    config = change.config
    config.provider(name)
    root = config.root
    answers = recorded_answers(root, name)
    answers.pop("kind", None)
    baseline_root = root / contract.baseline_dir(name)
    if not baseline_root.is_dir():
        raise UserError(
            f"{name} has no baseline ({contract.baseline_dir(name)}), so your edits cannot be "
            f"told from the template's; regenerate it with `multichat new provider {name} --force`"
        )
    base = trees.read_files(baseline_root)
    plan = UpgradePlan(change.changes)
    config_text = read_config_text(config.path)
    with checked_render(config, name, answers, new_config_text=lambda _: config_text) as rendered:
        theirs = {
            path: content
            for path, content in trees.read_files(rendered.tree).items()
            if path.name not in contract.SECRET_FILES
        }
    new_answers = theirs.pop(contract.answers_file(name), None)
    for path in sorted(set(base) | set(theirs)):
        _merge_one(plan, root, path, base.get(path), theirs.get(path))
        baseline_path = contract.baseline_dir(name) / path
        if path in theirs:
            plan.changes.write(baseline_path, theirs[path])
        else:
            plan.changes.delete(baseline_path)
    if new_answers is not None:
        plan.changes.write(contract.answers_file(name), new_answers)
    pending = {planned.path: planned.after for planned in plan.changes.changes}
    for folder in contract.owned_folders(name):
        for path in sorted((root / folder).rglob("*.py")) if (root / folder).is_dir() else []:
            relative = path.relative_to(root)
            content = pending.get(relative, path.read_bytes())
            if relative not in plan.conflicts and content and CONFLICT_MARK in content:
                plan.conflicts.append(relative)
                plan.notes.append(f"{relative} still has conflict markers from an earlier upgrade")
    return plan


def _merge_one(
    plan: UpgradePlan, root: Path, path: Path, base: bytes | None, theirs: bytes | None
) -> None:
    target = root / path
    ours = target.read_bytes() if target.is_file() else None
    if theirs == base or ours == theirs:
        return
    if ours == base:
        if theirs is None:
            plan.changes.delete(path)
        else:
            plan.changes.write(path, theirs)
        return
    if theirs is None:
        plan.notes.append(f"kept {path}: the template no longer has it, but you changed it")
        return
    if ours is None:
        plan.notes.append(f"left {path} deleted: you removed it; the template changed it")
        return
    merged, clean = merge_text(base or b"", ours, theirs)
    plan.changes.write(path, merged)
    if not clean:
        plan.conflicts.append(path)


def merge_text(base: bytes, ours: bytes, theirs: bytes) -> tuple[bytes, bool]:
    """Three-way merge of text files; returns the result and whether it is free of conflicts."""
    merger = merge3.Merge3(
        base.decode("utf-8").splitlines(keepends=True),
        ours.decode("utf-8").splitlines(keepends=True),
        theirs.decode("utf-8").splitlines(keepends=True),
    )
    lines = list(
        merger.merge_lines(
            name_a="yours", name_b="template", name_base="as generated", base_marker="|||||||"
        )
    )
    clean = all(group[0] != "conflict" for group in merger.merge_groups())
    return "".join(lines).encode("utf-8"), clean


def upgrade_provider(config_path: Path | None, name: str, *, dry_run: bool) -> UpgradePlan:
    """Plan and (unless ``dry_run``) apply the upgrade of ``name``, under the workspace lock."""
    with workspace_transaction(config_path, dry_run=dry_run) as change:
        return plan_upgrade(change, name)
