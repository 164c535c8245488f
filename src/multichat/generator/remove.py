"""``multichat remove provider``: plan the deletion of a provider's files, answers and entry.

Only files the generator wrote (listed in the provider's baseline) and the user left as they
were go without ``--force``; anything the user added or changed inside the provider's folders is
listed and the removal refused (a dry run shows them, marked).
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
from multichat.runtime.config import read_config_text


class UserFilesPresent(UserError):
    """The provider's folders hold files the generator did not write, or that the user changed."""


@dataclass
class RemovalPlan:
    """The changes, and the files they leave alone: secrets, and the user's own work."""

    changes: ChangeSet
    kept_secrets: list[Path] = field(default_factory=list)
    #: Files in the provider's folders that are the user's: ``added`` or ``changed`` (a
    #: generated file rewritten). Kept, and the removal refused, unless ``force``.
    user_files: dict[Path, str] = field(default_factory=dict)
    force: bool = False
    applied: bool = False

    @property
    def refused(self) -> bool:
        """Whether applying this plan is refused (files of the user's, no ``--force``)."""
        return bool(self.user_files) and not self.force

    def describe(self) -> str:
        """The changes, then a ``keep`` line for every file that stays and why."""
        lines = [self.changes.describe()] if self.changes.changes else []
        for path, how in sorted(self.user_files.items()):
            if self.force:
                continue  # deleted: already listed as a change
            lines.append(f"keep    {path}  (you {how} it: --force deletes it)")
        for path in self.kept_secrets:
            lines.append(f"keep    {path}  (a secret: --yes deletes it, unless --keep-token)")
        return "\n".join(lines)

    def as_json(self) -> dict[str, object]:
        """The plan for scripts (the schema is in docs/cli.md, ``remove provider``)."""
        kept = [
            {"path": str(path), "reason": how}
            for path, how in sorted(self.user_files.items())
            if not self.force
        ]
        kept += [{"path": str(path), "reason": "secret"} for path in self.kept_secrets]
        return {"changes": self.changes.as_json(), "kept": kept, "refused": self.refused}


def plan_remove_provider(
    change: WorkspaceChange, name: str, *, delete_secrets: bool, force: bool
) -> RemovalPlan:
    """Plan into ``change`` what removes provider ``name`` from the workspace.

    Files the user added, or generated files whose content no longer matches the baseline,
    are deleted only with ``force``; otherwise they are recorded in ``user_files``.
    """
    validate_provider_name(name)
    config = change.config
    config.provider(name)
    root = config.root
    baseline = root / contract.baseline_dir(name)
    generated = trees.baseline_files(root, name)
    secrets = {
        config.token_path(name),
        config.token_path(name).with_name(config.token_path(name).name + ".lock"),
        config.credentials_path(name),
    }
    plan = RemovalPlan(change.changes, force=force)
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
                continue
            how = trees.users_work(root, name, relative, generated)
            if how is not None:
                plan.user_files[relative] = how
            if force or relative not in plan.user_files:
                plan.changes.delete(relative)
    if delete_secrets:
        for secret in sorted(secrets):
            inside = any(secret.is_relative_to(root / f) for f in contract.owned_folders(name))
            if not inside and secret.is_file() and secret.is_relative_to(root):
                plan.changes.delete(secret.relative_to(root))
    plan.changes.delete(contract.answers_file(name))
    for path in sorted(baseline.rglob("*")) if baseline.is_dir() else []:
        if path.is_file():
            plan.changes.delete(path.relative_to(root))
    text = read_config_text(config.path)
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
    """Plan the removal; apply it under the workspace lock unless ``dry_run`` or not confirmed.

    A dry run returns a refused plan as it is, to be shown; otherwise it raises
    :class:`UserFilesPresent`, naming the files.
    """
    with workspace_transaction(config_path, dry_run=dry_run) as change:
        plan = plan_remove_provider(change, name, delete_secrets=delete_secrets, force=force)
        if plan.refused and not dry_run:
            listing = ", ".join(f"{path} ({how})" for path, how in sorted(plan.user_files.items()))
            raise UserFilesPresent(
                f"{name} has files you added or changed: {listing}; "
                "move them away or pass --force to delete them too"
            )
        if not dry_run and not confirm(plan):
            change.cancel()
    plan.applied = change.applied
    return plan
