"""Where multichat keeps, per user, what it can always recompute: import checks, parsed configs.

``$MULTICHAT_CACHE_DIR`` if set (empty turns every cache off), else ``$XDG_CACHE_HOME/multichat``,
else ``~/.cache/multichat``. Losing any of it only costs time.
"""

from __future__ import annotations

import os
from pathlib import Path

CACHE_ENV = "MULTICHAT_CACHE_DIR"


def cache_folder(name: str) -> Path | None:
    """The folder of cache ``name`` (not created here), or None when caching is off."""
    override = os.environ.get(CACHE_ENV)
    if override is not None:
        return Path(override).expanduser() / name if override else None
    base = os.environ.get("XDG_CACHE_HOME")
    if not base:
        try:
            base = str(Path.home() / ".cache")
        except RuntimeError:  # no home folder to be found: no cache
            return None
    return Path(base) / "multichat" / name
