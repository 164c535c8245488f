"""A read marker kept locally, for platforms that have none (Teams channels through Graph).

Per channel, the time of the newest message a catch-up showed, in the workspace at
``.multichat/state/<provider>/<name>`` (JSON, written atomically, mode 0600). A file that is
missing or unreadable counts as empty: the next catch-up starts afresh.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from multichat.atomic_file import write_atomically
from multichat.contract import STATE_DIR
from multichat.runtime.config import load_config


def state_file(provider: str, name: str) -> Path:
    """``<workspace>/.multichat/state/<provider>/<name>``."""
    return load_config().root / STATE_DIR / "state" / provider / name


def read_watermarks(path: Path) -> dict[str, str]:
    """Channel id -> the newest time shown, as stored."""
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(stored, dict):
        return {}
    return {str(key): str(value) for key, value in stored.items()}


def write_watermarks(path: Path, marks: Mapping[str, str]) -> None:
    """Store ``marks`` (creating the folder)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    content = json.dumps(dict(sorted(marks.items())), indent=1).encode()
    write_atomically(path, content, 0o600)
