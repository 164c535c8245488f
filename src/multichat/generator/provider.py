"""``multichat new provider``: render a provider and plan its files, answers, baseline and entry.

Planned in a :func:`~multichat.generator.transaction.workspace_transaction`: shown as it is
for ``--dry-run``, else applied all-or-nothing under the workspace's lock, the config last.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from multichat import contract
from multichat.contract import validate_provider_name
from multichat.errors import ProviderExists, UserError
from multichat.generator import trees
from multichat.generator.answers import check_user_answers, template_presets
from multichat.generator.changes import ChangeSet
from multichat.generator.config_edit import add_provider_entry
from multichat.generator.template_source import template_root
from multichat.generator.transaction import WorkspaceChange, checked_render, workspace_transaction
from multichat.invocation import invocation
from multichat.runtime.config import WorkspaceConfig, read_config_text

FIRST_PORT = 8000


@dataclass(frozen=True)
class NewProvider:
    """What ``new provider`` wrote (or, with ``dry_run``, would write)."""

    name: str
    config_path: Path
    files: list[Path]
    changes: ChangeSet
    applied: bool
    next_steps: str = ""


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
        files, next_steps = plan_new_provider(
            change,
            name,
            preset=preset,
            data=data or {},
            defaults=defaults,
            force=force,
            checking=checking,
        )
    return NewProvider(name, change.config.path, files, change.changes, change.applied, next_steps)


def plan_new_provider(
    change: WorkspaceChange,
    name: str,
    *,
    preset: str,
    data: dict[str, Any],
    defaults: bool,
    force: bool,
    checking: Callable[[], AbstractContextManager[object]] = contextlib.nullcontext,
) -> tuple[list[Path], str]:
    """Plan the files that generate ``name`` (and say the preset's next steps).

    With ``force``, they replace what is there.
    """
    config, changes = change.config, change.changes
    root = config.root
    if not force:
        _refuse_existing(config, name)
    answers = _answers(config, name, preset, data)
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
        new_config_text=new_config_text,
        checking=checking,
    ) as rendered:
        files = trees.read_files(rendered.tree)
    if force:
        baseline = {contract.baseline_dir(name) / f for f in files}
        _plan_replacement(changes, root, name, set(files) | baseline)
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
    return [root / f for f in files if f in written], rendered.next_steps


def _plan_replacement(changes: ChangeSet, root: Path, name: str, keep: set[Path]) -> None:
    """Under ``--force``: delete the old provider's files the new render does not write."""
    for folder in (*contract.owned_folders(name), contract.baseline_dir(name)):
        for path in sorted((root / folder).rglob("*")) if (root / folder).is_dir() else []:
            relative = path.relative_to(root)
            if (
                path.is_file()
                and relative not in keep
                and relative.name not in contract.SECRET_FILES
            ):
                changes.delete(relative)


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
