"""Shell completion of the names only the workspace knows: its providers, and the presets.

Imported only while a shell asks for completions (see :mod:`multichat.cli.options`), never for
``--help``. A completion must not fail loudly in the middle of a shell's line, so a missing or
broken ``provider-config.yaml`` completes nothing rather than raising.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from multichat.contract import CONFIG_ENV, find_config_upwards


def config_file(explicit: Path | None) -> Path | None:
    """The workspace's config as ``run`` finds it (``--config``, the variable, or upwards).

    Not :func:`multichat.runtime.config.find_config`: the runtime's import (pydantic) is too
    slow for a key press.
    """
    if explicit is not None:
        return explicit
    from_env = os.environ.get(CONFIG_ENV)
    if from_env:
        return Path(from_env).expanduser()
    return find_config_upwards(Path.cwd())


def provider_names(config: Path | None) -> list[str]:
    """The providers ``provider-config.yaml`` defines, sorted; [] when there is none to read."""
    path = config_file(config)
    if path is None:
        return []
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        document = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, YAMLError):
        return []
    providers = document.get("providers") if isinstance(document, dict) else None
    return sorted(str(name) for name in providers) if isinstance(providers, dict) else []


def preset_names() -> list[str]:
    """The presets the installed template offers."""
    from multichat.errors import MultichatError
    from multichat.generator.answers import template_presets
    from multichat.generator.template_source import template_root

    try:
        return list(template_presets(template_root() / "copier.yml"))
    except MultichatError:
        return []


def complete_provider(ctx: Any, incomplete: str) -> list[str]:
    """Provider names that start with ``incomplete`` (``--config`` on the line is honoured)."""
    config = ctx.params.get("config") if ctx is not None else None
    return [name for name in provider_names(config) if name.startswith(incomplete)]


def complete_preset(incomplete: str) -> list[str]:
    """Preset names that start with ``incomplete``."""
    return [name for name in preset_names() if name.startswith(incomplete)]
