"""How a new workspace should install multichat: the requirement and, from a checkout, its path.

A package of the same name on PyPI is not this project, so a workspace made from a local
checkout (an editable install) points ``[tool.uv.sources]`` at that checkout.
"""

from __future__ import annotations

import json
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path
from urllib.parse import unquote, urlparse

from multichat import __version__


def install_source() -> tuple[str, str]:
    """``(requirement, local_path)``; ``local_path`` is empty when multichat is not a checkout."""
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
    if (path / "pyproject.toml").is_file():
        return requirement, str(path)
    return requirement, ""
