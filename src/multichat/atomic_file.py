"""Write a file so that a reader, or a crash, only ever sees the old content or the new.

The one writer of files that matter (tokens, the HTTP token, generated code, the config): a
temporary file in the same folder (created 0600, so a secret is never briefly readable by
others), fsynced, given its mode, renamed over the target, and the folder fsynced so the rename
survives a power cut.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

#: Mode of a new file that is not a secret; an existing file keeps its own.
DEFAULT_MODE = 0o644


def write_atomically(path: Path, content: bytes, mode: int | None = None) -> None:
    """Replace ``path`` with ``content``; ``mode`` None keeps the file's mode (0644 if new).

    Raises:
        OSError: the folder is not writable, the disk is full...; the old file is untouched
            and no temporary file is left behind.
    """
    if mode is None:
        try:
            mode = path.stat().st_mode & 0o777
        except FileNotFoundError:
            mode = DEFAULT_MODE
    descriptor, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    fsync_folder(path.parent)


def fsync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (best effort: some filesystems refuse)."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
