"""What the teams preset's test modules share: the provider's name and token, config edits."""

from __future__ import annotations

from pathlib import Path

from ruamel.yaml import YAML

PROVIDER = "teams"
TOKEN = "eyJ0eXAiOiJKV1QiLCJub25jZSI6InRlc3QifQ.test.token"


def point_at(workspace: Path, base: str, **keys: object) -> None:
    """Aim the provider's Graph calls at ``base`` (the fake's ``/v1.0``); set other ``keys``."""
    path = workspace / "provider-config.yaml"
    yaml = YAML()
    document = yaml.load(path.read_text(encoding="utf-8"))
    entry = document["providers"][PROVIDER]
    entry["api_base_url"] = base
    for key, value in keys.items():
        entry[key] = value
    with path.open("w", encoding="utf-8") as handle:
        yaml.dump(document, handle)
