"""MkDocs hook: what the site takes from the project's own files rather than a copy.

The home page is README.md (its ``docs/...`` links made relative to the site) and the
repository link is ``[project.urls]`` Source in pyproject.toml: each fact keeps one home.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files

HOME = "index.md"


def _root(config: MkDocsConfig) -> Path:
    return Path(config.config_file_path).resolve().parent


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    """Link the site to the repository that pyproject.toml names."""
    project = tomllib.loads((_root(config) / "pyproject.toml").read_text(encoding="utf-8"))
    source = project["project"]["urls"]["Source"]
    config.repo_url = source
    config.repo_name = urlsplit(source).path.strip("/")
    return config


def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Add README.md as the home page, its links rewritten from the repository's root."""
    readme = (_root(config) / "README.md").read_text(encoding="utf-8")
    files.append(File.generated(config, HOME, content=readme.replace("](docs/", "](")))
    return files


def on_serve(server: Any, config: MkDocsConfig, builder: Any) -> Any:
    """Rebuild ``mkdocs serve``'s site when the README changes too."""
    server.watch(str(_root(config) / "README.md"))
    return server
