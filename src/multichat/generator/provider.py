"""``multichat new provider``: render a provider and plan its files, answers, baseline and entry.

Planned in a :func:`~multichat.generator.transaction.workspace_transaction`: shown as it is
for ``--dry-run``, else applied all-or-nothing under the workspace's lock, the config last.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from multichat import contract
from multichat.contract import validate_provider_name
from multichat.errors import ProviderExists, UserError
from multichat.generator import trees
from multichat.generator.answers import (
    OWN_ANSWERS,
    check_user_answers,
    recorded_answers,
    template_presets,
    template_questions,
)
from multichat.generator.changes import ChangeSet
from multichat.generator.config_edit import add_provider_entry
from multichat.generator.template_source import template_root
from multichat.generator.transaction import WorkspaceChange, checked_render, workspace_transaction
from multichat.invocation import invocation
from multichat.runtime.config import WorkspaceConfig, read_config_text

FIRST_PORT = 8000
#: Answers whose defaults do not depend on the preset: kept by ``--force`` across a change
#: of preset (the others, a description or scopes, are the old preset's words).
PRESET_NEUTRAL_ANSWERS = frozenset({"display_name", "port"})


@dataclass(frozen=True)
class NewProvider:
    """What ``new provider`` wrote (or, with ``dry_run``, would write)."""

    name: str
    config_path: Path
    files: list[Path]
    changes: ChangeSet
    applied: bool
    next_steps: str = ""
    #: Under ``--force``: files in the provider's folders left as they are, because they are
    #: the user's work (``added`` or ``changed``), by workspace-relative path.
    kept: dict[Path, str] = field(default_factory=dict)

    def describe(self) -> str:
        """The changes, then a ``keep`` line for every file of the user's that stays."""
        lines = [self.changes.describe()] if self.changes.changes else []
        lines += [f"keep    {path}  (you {how} it)" for path, how in sorted(self.kept.items())]
        return "\n".join(lines)

    def as_json(self) -> dict[str, object]:
        """What ``new provider --dry-run --json`` prints (the schema is in docs/cli.md)."""
        kept = [{"path": path.as_posix(), "reason": how} for path, how in sorted(self.kept.items())]
        return {"provider": self.name, "changes": self.changes.as_json(), "kept": kept}


def next_free_port(config: WorkspaceConfig, taken_by_others: set[int] | None = None) -> int:
    """The lowest port from 8000 up that no configured provider uses."""
    used = taken_by_others
    if used is None:
        used = {provider.port for provider in config.providers.values() if provider.port}
    port = FIRST_PORT
    while port in used:
        port += 1
    return port


def add_provider(
    name: str,
    *,
    config_path: Path | None = None,
    preset: str = "blank",
    data: dict[str, Any] | None = None,
    defaults: bool = True,
    force: bool = False,
    dry_run: bool = False,
    checking: Callable[[], AbstractContextManager[object]] = contextlib.nullcontext,
) -> NewProvider:
    """Generate provider ``name`` into the workspace of ``config_path`` (or the one found).

    ``checking`` wraps the checks that follow Copier's questions (a spinner, in the CLI).
    """
    validate_provider_name(name)
    presets = template_presets(template_root() / "copier.yml")
    if preset not in presets:
        raise UserError(f"unknown preset {preset!r}; choose one of: {', '.join(presets)}")
    with workspace_transaction(config_path, dry_run=dry_run) as change:
        files, next_steps, kept = plan_new_provider(
            change,
            name,
            preset=preset,
            data=data or {},
            defaults=defaults,
            force=force,
            checking=checking,
        )
    return NewProvider(
        name, change.config.path, files, change.changes, change.applied, next_steps, kept
    )


def plan_new_provider(
    change: WorkspaceChange,
    name: str,
    *,
    preset: str,
    data: dict[str, Any],
    defaults: bool,
    force: bool,
    checking: Callable[[], AbstractContextManager[object]] = contextlib.nullcontext,
) -> tuple[list[Path], str, dict[Path, str]]:
    """Plan the files that generate ``name``; say the preset's next steps and what stays.

    With ``force``, they overwrite the generated files there, as ``rails generate --force``
    does; files the user added or changed that the new render does not write stay (the third
    item, with why), and the answers given before are used again (:func:`_previous_answers`).
    """
    config, changes = change.config, change.changes
    root = config.root
    if not force:
        _refuse_existing(config, name)
    answers = _answers(config, name, preset, data)
    previous = _previous_answers(root, name, preset) if force else {}
    original = read_config_text(config.path)
    # Under --force an existing entry stays as the user has it (their OAuth endpoints,
    # scopes, read_only...): only the code is regenerated.
    keep_entry = force and name in config.providers

    def new_config_text(entry_text: str) -> str:
        if keep_entry:
            return original
        return add_provider_entry(original, config.path, name, entry_text)

    with checked_render(
        config,
        name,
        answers,
        defaults=defaults,
        user_defaults=previous,
        new_config_text=new_config_text,
        checking=checking,
    ) as rendered:
        files = trees.read_files(rendered.tree)
    kept: dict[Path, str] = {}
    if force:
        baseline = {contract.baseline_dir(name) / f for f in files}
        kept = _plan_replacement(changes, root, name, set(files) | baseline)
    for relative, content in files.items():
        secret = relative.name in contract.SECRET_FILES
        if secret and (root / relative).exists():
            continue  # --force keeps the user's token and credentials (and never prints them)
        changes.create(relative, content, 0o600 if secret else None)
    for relative, content in files.items():
        if relative.name not in contract.SECRET_FILES and relative != contract.answers_file(name):
            changes.create(contract.baseline_dir(name) / relative, content)
    changes.write(config.path.relative_to(root), rendered.config_text.encode("utf-8"))
    written = {planned.path for planned in changes.changes}
    return [root / f for f in files if f in written], rendered.next_steps, kept


def _plan_replacement(
    changes: ChangeSet, root: Path, name: str, written: set[Path]
) -> dict[Path, str]:
    """Under ``--force``: delete the old render's files that the new one does not write.

    Only files the old render wrote and the user left as they were go (and byte-code caches);
    the user's own files, and generated ones they changed, stay: returned, with why.
    """
    generated = trees.baseline_files(root, name)
    users: dict[Path, str] = {}
    for folder in (*contract.owned_folders(name), contract.baseline_dir(name)):
        for path in sorted((root / folder).rglob("*")) if (root / folder).is_dir() else []:
            relative = path.relative_to(root)
            if not path.is_file() or relative in written:
                continue
            if relative.name in contract.SECRET_FILES:
                continue  # the token and credentials are kept, and never listed
            how = (
                None
                if folder == contract.baseline_dir(name)
                else (trees.users_work(root, name, relative, generated))
            )
            if how is None:
                changes.delete(relative)
            else:
                users[relative] = how
    return users


def _previous_answers(root: Path, name: str, preset: str) -> dict[str, Any]:
    """The answers ``name`` was generated with, for ``--force`` to render with again.

    All of them under the same preset; under another, those whose defaults do not depend on
    the preset (:data:`PRESET_NEUTRAL_ANSWERS`). None when they cannot be read: ``--force``
    is also how a provider with a broken answers file is regenerated.
    """
    try:
        recorded = recorded_answers(root, name)
    except UserError:
        return {}
    askable = template_questions(template_root() / "copier.yml") - OWN_ANSWERS
    if recorded.get("preset") != preset:
        askable &= PRESET_NEUTRAL_ANSWERS
    return {key: value for key, value in recorded.items() if key in askable}


def _refuse_existing(config: WorkspaceConfig, name: str) -> None:
    if name in config.providers:
        raise ProviderExists(
            f"provider {name!r} exists already in {config.path}; pick another name, "
            "or pass --force to replace it"
        )
    for relative in contract.owned_folders(name):
        if (config.root / relative).exists():
            raise ProviderExists(
                f"{config.root / relative} exists already, though {name!r} is not in "
                f"{config.path.name}; pass --force to generate over it (its token and "
                "credentials files are kept), or pick another name"
            )


def _answers(
    config: WorkspaceConfig, name: str, preset: str, data: dict[str, Any]
) -> dict[str, Any]:
    check_user_answers(data, template_root() / "copier.yml")
    others = {p.port for n, p in config.providers.items() if p.port and n != name}
    answers: dict[str, Any] = {"default_port": next_free_port(config, others), **data}
    # The next steps name multichat as the user runs it (not recorded: `when: false`).
    answers.update(
        provider_name=name, preset=preset, multichat_command=invocation(config.root).words
    )
    if "port" in data:
        try:
            port = int(data["port"])
        except (TypeError, ValueError):
            raise UserError(f"port must be a number, not {data['port']!r}") from None
        taken = sorted(n for n, p in config.providers.items() if p.port == port and n != name)
        if taken:
            raise UserError(f"port {port} is used by {', '.join(taken)}; pick another port")
        answers["port"] = port
    return answers
