"""Remember what the YAML of a ``provider-config.yaml`` says, so unchanged text is not re-read.

The round-trip YAML reader (comments, line numbers) takes about 2 ms a provider entry: most of
what a workspace of many providers spends on its configuration at every start. A file that
read cleanly is remembered as its plain data and the line of each top-level and provider key
(for warnings), under a key made of the text itself and the code that reads it. Validation
still runs on every load; a file with any problem is read in full again for its message.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import __version__ as ruamel_version

import multichat.yaml_documents
from multichat.atomic_file import write_atomically
from multichat.user_cache import cache_folder

logger = logging.getLogger(__name__)

#: Bump when what is remembered changes meaning.
FORMAT = b"config-cache 1"
#: Files kept: the oldest go past this many (one per configuration file).
MAX_FILES = 64


@dataclass(frozen=True)
class Remembered:
    """A configuration text's plain data and the line of each key (``providers.x.port``)."""

    document: dict[str, Any]
    lines: dict[str, int]


def remembered(path: Path, text: str) -> Remembered | None:
    """What ``text`` (the file at ``path``) was found to say, if it was read before."""
    folder = cache_folder("configs")
    if folder is None:
        return None
    try:
        stored = json.loads((folder / _file_name(path)).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(stored, dict) or stored.get("key") != _key(text):
        return None
    document, lines = stored.get("document"), stored.get("lines")
    if not isinstance(document, dict) or not isinstance(lines, dict):
        return None
    return Remembered(document, lines)


def remember(path: Path, text: str, document: dict[str, Any], lines: dict[str, int]) -> None:
    """Keep ``document`` (plain data, as read from ``text``); a failure only costs time."""
    folder = cache_folder("configs")
    if folder is None:
        return
    try:
        data = json.dumps(
            {"key": _key(text), "document": document, "lines": lines}, allow_nan=False
        )
    except (TypeError, ValueError):  # a value JSON cannot hold exactly (a date): not kept
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
        write_atomically(folder / _file_name(path), data.encode("utf-8"), 0o600)
        _prune(folder)
    except OSError as exc:
        logger.debug("could not remember %s in %s: %s", path, folder, exc)


def _key(text: str) -> str:
    digest = hashlib.sha256(FORMAT + b"\0" + ruamel_version.encode() + b"\0")
    digest.update(_reader_source() + b"\0" + text.encode("utf-8", "surrogateescape"))
    return digest.hexdigest()


@functools.cache
def _reader_source() -> bytes:
    """The source of the YAML reader: a change to it forgets what it read."""
    return Path(multichat.yaml_documents.__file__).read_bytes()


def _file_name(path: Path) -> str:
    return hashlib.sha256(str(path).encode("utf-8", "surrogateescape")).hexdigest()[:32] + ".json"


def _prune(folder: Path) -> None:
    """Keep the newest :data:`MAX_FILES` files."""
    files = list(folder.glob("*.json"))
    if len(files) <= MAX_FILES:
        return
    files.sort(key=lambda file: file.stat().st_mtime_ns)
    for old in files[: len(files) - MAX_FILES]:
        old.unlink(missing_ok=True)
