"""``multichat remove provider``: plan the deletion of a provider's files, answers and entry.

Only files the generator wrote (listed in the provider's baseline) go without ``--force``;
anything else the user added inside the provider's folders is listed and the removal refused.
The token and client credentials go only when the caller says so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from multichat import contract
from multichat.contract import validate_provider_name
from multichat.errors import UserError
from multichat.generator import trees
from multichat.generator.changes import ChangeSet
from multichat.generator.config_edit import remove_provider_entry
from multichat.generator.transaction import WorkspaceChange, workspace_transaction


class UserFilesPresent(UserError):
    """The provider's folders hold files the generator did not write."""


@dataclass
class RemovalPlan:
    """The changes, and which secret files stay behind."""

    changes: ChangeSet
    kept_secrets: list[Path] = field(default_factory=list)
    applied: bool = False


def plan_remove_provider(
    change: WorkspaceChange, name: str, *, delete_secrets: bool, force: bool
) -> RemovalPlan:
    """Plan into ``change`` what removes provider ``name`` from the workspace."""
    validate_provider_name(name)
    config = change.config
    config.provider(name)
    root = config.root
    generated = _baseline_files(root, name)
    secrets = {
        config.token_path(name),
        config.token_path(name).with_name(config.token_path(name).name + ".lock"),
        config.credentials_path(name),
    }
    plan = RemovalPlan(change.changes)
    added: list[Path] = []
    for folder in contract.owned_folders(name):
        for path in sorted((root / folder).rglob("*")) if (root / folder).is_dir() else []:
            if not path.is_file():
                continue
            relative = path.relative_to(root)
            if path in secrets:
                if delete_secrets:
                    plan.changes.delete(relative)
                else:
                    plan.kept_secrets.append(relative)
            elif relative in generated or trees.is_cache(relative) or force:
                plan.changes.delete(relative)
            else:
                added.append(relative)
    if added:
        listing = ", ".join(str(path) for path in added)
        raise UserFilesPresent(
            f"{name} has files multichat did not generate: {listing}; "
            "move them away or pass --force to delete them too"
        )
    if delete_secrets:
        for secret in sorted(secrets):
            inside = any(secret.is_relative_to(root / f) for f in contract.owned_folders(name))
            if not inside and secret.is_file() and secret.is_relative_to(root):
                plan.changes.delete(secret.relative_to(root))
    plan.changes.delete(contract.answers_file(name))
    baseline = root / contract.baseline_dir(name)
    for path in sorted(baseline.rglob("*")) if baseline.is_dir() else []:
        if path.is_file():
            plan.changes.delete(path.relative_to(root))
    text = config.path.read_text(encoding="utf-8")
    plan.changes.write(
        config.path.relative_to(root),
        remove_provider_entry(text, config.path, name).encode("utf-8"),
    )
    return plan


def remove_provider(
    config_path: Path | None,
    name: str,
    *,
    delete_secrets: bool,
    force: bool,
    dry_run: bool,
    confirm: Callable[[RemovalPlan], bool] = lambda plan: True,
) -> RemovalPlan:
    """Plan the removal; apply it under the workspace lock unless ``dry_run`` or not confirmed."""
    with workspace_transaction(config_path, dry_run=dry_run) as change:
        plan = plan_remove_provider(change, name, delete_secrets=delete_secrets, force=force)
        if not dry_run and not confirm(plan):
            change.cancel()
    plan.applied = change.applied
    return plan


def _baseline_files(root: Path, name: str) -> set[Path]:
    baseline = root / contract.baseline_dir(name)
    if not baseline.is_dir():
        return set()
    return {p.relative_to(baseline) for p in baseline.rglob("*") if p.is_file()}
