"""What ``catch_up`` has reported on Discord, kept in the workspace between calls.

Discord keeps no read marker for bots (discord-api-docs#13: there is no read-state API), so the
newest message id ``catch_up`` reported is remembered per channel, in
``.multichat/state/<provider>/catch_up.json`` (on a team server, per person: see
:func:`~multichat.platforms._watermarks.state_file`). The file is small, rewritten atomically, and
merged rather than overwritten: a marker never moves back, whoever wrote last.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping
from pathlib import Path

from multichat.atomic_file import write_atomically
from multichat.platforms import _watermarks as watermarks

logger = logging.getLogger(__name__)

FILE_NAME = "catch_up.json"
#: Channels remembered at most; the ones quiet the longest are forgotten first.
MAX_CHANNELS = 5_000
_write_lock = threading.Lock()


def state_path(provider: str) -> Path:
    """``<workspace>/.multichat/state/<provider>/catch_up.json``."""
    return watermarks.state_file(provider, FILE_NAME)


def where_kept(provider: str) -> str:
    """Where the markers are, as notes say it (a person is not shown server paths)."""
    return watermarks.where_kept(provider, FILE_NAME)


def read_markers(path: Path) -> dict[str, str]:
    """Channel id -> the newest message id reported there; empty if missing or unreadable."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        logger.warning("ignoring %s, which cannot be read (%s)", path, exc)
        return {}
    markers = document.get("last_reported") if isinstance(document, dict) else None
    if not isinstance(markers, dict):
        logger.warning("ignoring %s: it has no last_reported mapping", path)
        return {}
    return {
        str(channel): str(message)
        for channel, message in markers.items()
        if str(channel).isdigit() and str(message).isdigit()
    }


def save_markers(path: Path, reported: Mapping[str, str]) -> None:
    """Merge ``reported`` into the file: each channel keeps the newer of the two markers."""
    if not reported:
        return
    with _write_lock:
        markers = read_markers(path)
        for channel, message in reported.items():
            if channel not in markers or int(message) > int(markers[channel]):
                markers[channel] = message
        newest = sorted(markers.items(), key=lambda item: int(item[1]), reverse=True)
        document = {"version": 1, "last_reported": dict(newest[:MAX_CHANNELS])}
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        write_atomically(path, (json.dumps(document, indent=1) + "\n").encode("utf-8"))
