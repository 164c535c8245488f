"""How a new workspace installs multichat: the requirement, and a source only for development.

The distribution is ``multichat-mcp`` (PyPI's ``multichat`` is another project); a workspace
requires it with a range from this release (``>=0.2.0,<0.3``), which any machine resolves from
the package index. Only a multichat running from a source checkout (an editable install) adds
a source, as a path relative to the workspace, so that a developer's workspace follows their
checkout; no absolute path of this machine is ever written into the workspace.
"""

from __future__ import annotations

import json
import os
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path
from urllib.parse import unquote, urlparse

from multichat import __version__

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
