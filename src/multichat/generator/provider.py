"""``multichat new provider``: render a provider package and add its entry to the config.

Everything is rendered and checked in a scratch folder first; then the package folders are
moved into the workspace and ``provider-config.yaml`` is written last, atomically. A failure at
any step removes what was moved, so the workspace is left as it was.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from multichat.errors import GenerationError, ProviderExists, UserError
from multichat.generator.config_edit import add_provider_entry, write_atomically
from multichat.generator.names import validate_provider_name
from multichat.generator.template_source import render
from multichat.runtime.config import WorkspaceConfig, load_config

FIRST_PORT = 8000
PRESETS = ("blank", "sandbox")


@dataclass(frozen=True)
class NewProvider:
    """What ``new provider`` wrote."""

    name: str
    config_path: Path
    files: list[Path]


def provider_paths(name: str) -> list[Path]:
    """The workspace paths a provider owns, relative to the workspace root."""
    return [
        Path("src/providers") / name,
        Path("tests/providers") / name,
        Path(".multichat/providers") / f"{name}.yml",
    ]


def next_free_port(config: WorkspaceConfig) -> int:
    """The lowest port from 8000 up that no configured provider uses."""
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
) -> NewProvider:
    """Generate provider ``name`` into the workspace of ``config_path`` (or the one found)."""
    validate_provider_name(name)
    if preset not in PRESETS:
        raise UserError(f"unknown preset {preset!r}; choose one of: {', '.join(PRESETS)}")
    config = load_config(config_path)
    root = config.root
    _refuse_existing(config, name)
    answers = _answers(config, name, preset, data or {})
    original = config.path.read_text(encoding="utf-8")

    with render("provider", answers, defaults=defaults) as rendered:
        entry_file = rendered / f"{name}.provider-config.yaml"
        entry_text = entry_file.read_text(encoding="utf-8")
        entry_file.unlink()
        updated = add_provider_entry(original, config.path, name, entry_text)
        _check_python(rendered)
        written = sorted(p.relative_to(rendered) for p in rendered.rglob("*") if p.is_file())
        moved: list[Path] = []
        try:
            for relative in provider_paths(name):
                source = rendered / relative
                if not source.exists():
                    continue
                target = root / relative
                if target.exists():
                    raise ProviderExists(f"{target} appeared while generating; nothing was written")
                _make_parents(target.parent, root, moved)
                shutil.move(str(source), str(target))
                moved.append(target)
            if config.path.read_text(encoding="utf-8") != original:
                raise GenerationError(
                    f"{config.path} changed while generating; run the command again"
                )
            write_atomically(config.path, updated)
        except BaseException:
            _remove(moved)
            raise
    return NewProvider(name=name, config_path=config.path, files=[root / f for f in written])


def _refuse_existing(config: WorkspaceConfig, name: str) -> None:
    if name in config.providers:
        raise ProviderExists(
            f"provider {name!r} exists already in {config.path}; pick another name"
        )
    for relative in provider_paths(name)[:2]:
        if (config.root / relative).exists():
            raise ProviderExists(
                f"{config.root / relative} exists already; pick another name or remove it"
            )


def _answers(
    config: WorkspaceConfig, name: str, preset: str, data: dict[str, Any]
) -> dict[str, Any]:
    answers: dict[str, Any] = {"default_port": next_free_port(config), **data}
    answers.update(provider_name=name, preset=preset)
    if "port" in data:
        try:
            port = int(data["port"])
        except (TypeError, ValueError):
            raise UserError(f"port must be a number, not {data['port']!r}") from None
        taken = sorted(n for n, p in config.providers.items() if p.port == port)
        if taken:
            raise UserError(f"port {port} is used by {', '.join(taken)}; pick another port")
        answers["port"] = port
    return answers


def _check_python(rendered: Path) -> None:
    for source in sorted(rendered.rglob("*.py")):
        try:
            compile(source.read_text(encoding="utf-8"), str(source), "exec")
        except SyntaxError as exc:
            relative = source.relative_to(rendered)
            raise GenerationError(
                f"the template produced invalid Python in {relative}:{exc.lineno}: {exc.msg}"
            ) from None


def _make_parents(folder: Path, root: Path, created: list[Path]) -> None:
    missing = []
    while not folder.exists() and folder != root:
        missing.append(folder)
        folder = folder.parent
    for path in reversed(missing):
        path.mkdir()
        created.append(path)


def _remove(paths: list[Path]) -> None:
    for path in reversed(paths):
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
