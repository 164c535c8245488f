"""How a new workspace installs multichat: the requirement, and a source only for development.

The distribution is ``multichat-mcp`` (PyPI's ``multichat`` is another project); a workspace
requires it with a range from this release (``>=0.2.0,<0.3``), which any machine resolves from
the package index. Only a multichat running from a source checkout (an editable install) adds
a source, as a path relative to the workspace, so that a developer's workspace follows their
checkout; no absolute path of this machine is ever written into the workspace. The same
module reads both back from a workspace's ``pyproject.toml``, for whoever must know what it
installs.
"""

from __future__ import annotations

import json
import os
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

from multichat import __version__

if TYPE_CHECKING:
    from packaging.requirements import Requirement

DISTRIBUTION = "multichat-mcp"


def requirement() -> str:
    """``multichat-mcp>=X.Y.Z,<X.(Y+1)``: this release and its compatible updates."""
    major, minor = (int(part) for part in __version__.split(".")[:2])
    return f"{DISTRIBUTION}>={__version__},<{major}.{minor + 1}"


def checkout() -> Path | None:
    """The source checkout this multichat runs from (an editable install), if it does."""
    try:
        direct_url = distribution(DISTRIBUTION).read_text("direct_url.json")
    except PackageNotFoundError:
        return None
    if not direct_url:
        return None
    info = json.loads(direct_url)
    url = urlparse(str(info.get("url", "")))
    editable = bool((info.get("dir_info") or {}).get("editable"))
    path = Path(unquote(url.path))
    if url.scheme == "file" and editable and (path / "pyproject.toml").is_file():
        return path
    return None


def install_source(workspace: Path) -> tuple[str, str]:
    """``(requirement, source)``: the source is a checkout's path relative to ``workspace``."""
    source = checkout()
    if source is None:
        return requirement(), ""
    return requirement(), os.path.relpath(source, workspace.resolve())


def declared_source(workspace: Path) -> str | None:
    """Where the workspace's ``[tool.uv.sources]`` installs multichat from, if it names a place.

    ``uv run`` there installs that (a checkout, a path, a git URL) instead of asking the index.
    """
    source = _table(_pyproject(workspace), "tool", "uv", "sources").get(DISTRIBUTION)
    if not isinstance(source, dict) or not source:
        return None
    return str(next(iter(source.values())))


def declared_requirement(workspace: Path) -> Requirement | None:
    """The workspace's requirement on ``multichat-mcp`` in its ``pyproject.toml``, if any."""
    from packaging.requirements import InvalidRequirement, Requirement

    dependencies = _table(_pyproject(workspace), "project").get("dependencies")
    for line in dependencies if isinstance(dependencies, list) else []:
        try:
            requirement = Requirement(str(line))
        except InvalidRequirement:
            continue
        if requirement.name == DISTRIBUTION:
            return requirement
    return None


def _pyproject(workspace: Path) -> dict[str, Any]:
    """The workspace's ``pyproject.toml``; empty when it is missing or unreadable."""
    import tomllib

    try:
        return tomllib.loads((workspace / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}


def _table(data: dict[str, Any], *keys: str) -> dict[str, Any]:
    """``data[keys[0]][keys[1]]...``, or an empty table where one is missing or not a table."""
    for key in keys:
        value = data.get(key)
        data = value if isinstance(value, dict) else {}
    return data
