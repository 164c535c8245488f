"""The installed package says where the project lives and under which licence, with the text."""

from __future__ import annotations

import tomllib
from importlib.metadata import distribution, metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DISTRIBUTION = "multichat-mcp"


def test_the_metadata_names_the_project_urls():
    urls = dict(
        entry.split(", ", 1) for entry in metadata(DISTRIBUTION).get_all("Project-URL") or []
    )
    assert sorted(urls) == ["Documentation", "Homepage", "Issues", "Source"]
    assert all(url.startswith("https://") for url in urls.values())


def test_the_licence_is_declared_and_its_text_ships():
    assert metadata(DISTRIBUTION)["License-Expression"] == "MIT"
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    shipped = [str(path) for path in distribution(DISTRIBUTION).files or []]
    assert any(path.endswith("licenses/LICENSE") for path in shipped)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license-files"] == ["LICENSE"]
