"""What the Google Chat preset's test modules share: the provider's name and token, config edits."""

from __future__ import annotations

from pathlib import Path

from google_chat_world import USERINFO_PATH
from ruamel.yaml import YAML

PROVIDER = "gchat"
TOKEN = "ya29.a0-test-token"


def point_at(workspace: Path, url: str, **keys: object) -> None:
    """Aim the provider's API and who-am-I call at ``url``; set other ``keys`` too."""
    path = workspace / "provider-config.yaml"
    yaml = YAML()
    document = yaml.load(path.read_text(encoding="utf-8"))
    entry = document["providers"][PROVIDER]
    entry["api_base_url"] = f"{url}/v1"
    entry["auth"]["whoami"] = f"{url}{USERINFO_PATH}"
    for key, value in keys.items():
        entry[key] = value
    with path.open("w", encoding="utf-8") as handle:
        yaml.dump(document, handle)
