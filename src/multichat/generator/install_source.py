"""How a new workspace should install multichat: the requirement and where it comes from.

A package of the same name on PyPI is not this project, so a workspace points
``[tool.uv.sources]`` at what the running multichat was installed from: its checkout (an
editable install) or the wheel file it was installed from. Only an install whose origin is
unknown leaves the workspace to the package index, and the workspace's pyproject says so.
"""

from __future__ import annotations

import json
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path
from urllib.parse import unquote, urlparse

from multichat import __version__


def install_source() -> tuple[str, str]:
    """``(requirement, local_path)``: a checkout folder or a wheel file, or ``""`` if unknown."""
    requirement = f"multichat>={__version__}"
    try:
        direct_url = distribution("multichat").read_text("direct_url.json")
    except PackageNotFoundError:
        return requirement, ""
    if not direct_url:
        return requirement, ""
    info = json.loads(direct_url)
    url = urlparse(str(info.get("url", "")))
    if url.scheme != "file":
        return requirement, ""
    path = Path(unquote(url.path))
    if (path / "pyproject.toml").is_file() or (path.suffix == ".whl" and path.is_file()):
        return requirement, str(path)
    return requirement, ""
