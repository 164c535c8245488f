"""``multichat new provider``: render a provider and plan its files, answers, baseline and entry.

The plan (a :class:`ChangeSet`) is shown as it is for ``--dry-run`` or applied all-or-nothing
under the workspace's lock, ``provider-config.yaml`` last.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from multichat.contract import validate_provider_name
from multichat.errors import ConfigError, ProviderExists, UserError
from multichat.generator import layout
from multichat.generator.answers import check_user_answers
from multichat.generator.changes import ChangeSet, workspace_lock
from multichat.generator.config_edit import add_provider_entry
from multichat.generator.contract_check import check_rendered_provider
from multichat.generator.import_check import ImportProbe, check_provider_imports, import_probe
from multichat.generator.template_source import render, template_root
from multichat.runtime.config import WorkspaceConfig, load_config

FIRST_PORT = 8000
PRESETS = ("blank", "sandbox")
#: Generated files that hold secrets: written 0600, never copied into the baseline.
SECRET_FILES = frozenset({"credentials.json", "token.json"})


@dataclass(frozen=True)
class NewProvider:
    """What ``new provider`` wrote (or, with ``dry_run``, would write)."""

    name: str
    config_path: Path
    files: list[Path]
    changes: ChangeSet
    applied: bool


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
) -> NewProvider:
    """Generate provider ``name`` into the workspace of ``config_path`` (or the one found)."""
    validate_provider_name(name)
    if preset not in PRESETS:
        raise UserError(f"unknown preset {preset!r}; choose one of: {', '.join(PRESETS)}")
    root = load_config(config_path).root
    with workspace_lock(root):
        config = load_config(config_path)
        changes, files = plan_new_provider(
            config, name, preset=preset, data=data or {}, defaults=defaults, force=force
        )
        if not dry_run:
            changes.apply()
    return NewProvider(name, config.path, files, changes, applied=not dry_run)


def plan_new_provider(
    config: WorkspaceConfig,
    name: str,
    *,
    preset: str,
    data: dict[str, Any],
    defaults: bool,
    force: bool,
) -> tuple[ChangeSet, list[Path]]:
    """The changes that generate ``name``; with ``force``, they replace what is there."""
    root = config.root
    if not force:
        _refuse_existing(config, name)
    answers = _answers(config, name, preset, data)
    original = config.path.read_text(encoding="utf-8")
    relative_config = config.path.relative_to(root)
    template = template_root()
    with (
        import_probe(template, preset) as probe,
        render("provider", answers, defaults=defaults) as rendered,
    ):
        fragment = rendered / f"{name}.provider-config.yaml"
        entry_text = fragment.read_text(encoding="utf-8")
        fragment.unlink()
        # Under --force an existing entry stays as the user has it (their OAuth endpoints,
        # scopes, read_only...): only the code is regenerated.
        keep_entry = force and name in config.providers
        updated = (
            original if keep_entry else add_provider_entry(original, config.path, name, entry_text)
        )
        check_rendered_provider(rendered, layout.package_dir(name))
        check_rendered_imports(rendered, name, config, updated, probe, (template, preset))
        files = sorted(p.relative_to(rendered) for p in rendered.rglob("*") if p.is_file())
        changes = ChangeSet(root)
        if force:
            baseline = {layout.baseline_dir(name) / f for f in files}
            _plan_replacement(changes, root, name, set(files) | baseline)
        for relative in files:
            secret = relative.name in SECRET_FILES
            if secret and (root / relative).exists():
                continue  # --force keeps the user's token and credentials (and never prints them)
            changes.create(relative, (rendered / relative).read_bytes(), 0o600 if secret else None)
        for relative in files:
            if relative.name not in SECRET_FILES and relative != layout.answers_file(name):
                changes.create(
                    layout.baseline_dir(name) / relative, (rendered / relative).read_bytes()
                )
    changes.write(relative_config, updated.encode("utf-8"))
    written = {change.path for change in changes.changes}
    return changes, [root / f for f in files if f in written]


def check_rendered_imports(
    rendered: Path,
    name: str,
    config: WorkspaceConfig,
    config_text: str,
    probe: ImportProbe | None,
    kind: tuple[Path, str],
) -> None:
    """Import the rendered provider under ``config_text`` (see :mod:`.import_check`)."""
    safe = YAML(typ="safe")
    providers = (safe.load(config_text) or {}).get("providers") or {}
    entry = providers.get(name)
    if not isinstance(entry, dict):
        raise ConfigError(f"{config.path} has no mapping for provider {name!r} under providers:")
    answers_path = rendered / layout.answers_file(name)
    answers = safe.load(answers_path.read_text(encoding="utf-8")) if answers_path.is_file() else {}
    check_provider_imports(
        rendered,
        name,
        workspace=config.root,
        config_name=config.path.name,
        config_text=config_text,
        entry=entry,
        answers={k: v for k, v in (answers or {}).items() if not str(k).startswith("_")},
        probe=probe,
        kind=kind,
    )


def _plan_replacement(changes: ChangeSet, root: Path, name: str, keep: set[Path]) -> None:
    """Under ``--force``: delete the old provider's files the new render does not write."""
    for folder in (*layout.owned_folders(name), layout.baseline_dir(name)):
        for path in sorted((root / folder).rglob("*")) if (root / folder).is_dir() else []:
            relative = path.relative_to(root)
            if path.is_file() and relative not in keep and relative.name not in SECRET_FILES:
                changes.delete(relative)


def _refuse_existing(config: WorkspaceConfig, name: str) -> None:
    if name in config.providers:
        raise ProviderExists(
            f"provider {name!r} exists already in {config.path}; pick another name, "
            "or pass --force to replace it"
        )
    for relative in layout.owned_folders(name):
        if (config.root / relative).exists():
            raise ProviderExists(
                f"{config.root / relative} exists already; pick another name or remove it"
            )


def _answers(
    config: WorkspaceConfig, name: str, preset: str, data: dict[str, Any]
) -> dict[str, Any]:
    check_user_answers(data, template_root() / "copier.yml")
    others = {p.port for n, p in config.providers.items() if p.port and n != name}
    answers: dict[str, Any] = {"default_port": next_free_port(config, others), **data}
    answers.update(provider_name=name, preset=preset)
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
