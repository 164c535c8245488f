"""A planned set of file changes: shown as a dry run, or applied all-or-nothing.

Applying writes a journal first (``.multichat/journal/``: which paths change, and a backup of
each one that existed), then each file by temporary file and rename, ``provider-config.yaml``
last. Any failure, Ctrl-C included, rolls back from the backups. A process killed outright
leaves the journal behind, and the next command that writes rolls the half-done change back
before doing anything else, so the workspace is never left half-changed. A file that is a
symlink (a ``provider-config.yaml`` shared between workspaces, say) is written through: the
link stays a link and the file it points at changes, backed up and restored like any other.
"""

from __future__ import annotations

import contextlib
import difflib
import glob
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from filelock import FileLock, Timeout

from multichat.atomic_file import write_atomically
from multichat.contract import STATE_DIR
from multichat.errors import MultichatError
from multichat.generator import trees

LOCK_TIMEOUT_SECONDS = 120.0


class WorkspaceBusy(MultichatError):
    """Another multichat command holds the workspace's lock."""


@dataclass(frozen=True)
class FileChange:
    """One file's change; ``None`` content means "does not exist" (before) or "delete" (after)."""

    path: Path
    before: bytes | None
    after: bytes | None
    mode: int | None = None

    @property
    def kind(self) -> str:
        """``create``, ``modify`` or ``delete``."""
        if self.before is None:
            return "create"
        return "delete" if self.after is None else "modify"


@dataclass
class ChangeSet:
    """File changes under ``root``, applied in order (put the config last)."""

    root: Path
    changes: list[FileChange] = field(default_factory=list)

    def create(self, path: Path, content: bytes, mode: int | None = None) -> None:
        """Add a file (or replace it, if it exists with other content)."""
        before = _read(self.root / path)
        if before != content:
            self.changes.append(FileChange(path, before, content, mode))

    def write(self, path: Path, content: bytes) -> None:
        """Set a file's content, whether or not it exists; no-op if unchanged."""
        before = _read(self.root / path)
        if before != content:
            self.changes.append(FileChange(path, before, content))

    def delete(self, path: Path) -> None:
        """Remove a file that exists."""
        before = _read(self.root / path)
        if before is not None:
            self.changes.append(FileChange(path, before, None))

    def describe(self, diffs: bool = True) -> str:
        """What applying would do: a line per file, then a diff per changed text file.

        multichat's own bookkeeping under ``.multichat/`` (answers, baselines) and byte-code
        caches are counted, not listed, so the output shows what the user will see change.
        """
        shown = [
            c
            for c in self.changes
            if not c.path.is_relative_to(STATE_DIR) and not trees.is_cache(c.path)
        ]
        lines = [f"{change.kind:<7} {change.path}" for change in shown]
        bookkeeping = sum(1 for c in self.changes if c.path.is_relative_to(STATE_DIR))
        if bookkeeping:
            lines.append(f"(and {bookkeeping} bookkeeping file(s) under {STATE_DIR}/)")
        caches = len(self.changes) - len(shown) - bookkeeping
        if caches:
            lines.append(f"(and {caches} byte-code cache file(s))")
        for change in shown if diffs else []:
            if change.before is None or change.after is None:
                continue
            lines.extend(
                difflib.unified_diff(
                    change.before.decode("utf-8", "replace").splitlines(),
                    change.after.decode("utf-8", "replace").splitlines(),
                    fromfile=f"a/{change.path}",
                    tofile=f"b/{change.path}",
                    lineterm="",
                )
            )
        return "\n".join(lines)

    def as_json(self) -> list[dict[str, str]]:
        """Every change for scripts, bookkeeping and caches included: ``{"path", "change"}``."""
        return [{"path": change.path.as_posix(), "change": change.kind} for change in self.changes]

    def apply(self) -> None:
        """Apply every change, or none: a failure restores what was there."""
        journal = Journal(self.root)
        journal.begin(self.changes)
        try:
            for change in self.changes:
                target = self.root / change.path
                if change.after is None:
                    target.unlink(missing_ok=True)
                    continue
                journal.make_parents(target.parent)
                write_atomically(written_path(target), change.after, change.mode)
        except BaseException:
            journal.roll_back()
            raise
        else:
            for change in self.changes:
                if change.after is None:
                    _remove_empty_parents((self.root / change.path).parent, self.root)
            journal.finish()


class Journal:
    """The record of a change in progress, with backups, for rolling it back."""

    def __init__(self, root: Path) -> None:
        """The journal of the workspace at ``root``."""
        self.root = root
        self.folder = root / STATE_DIR / "journal"
        self.created_dirs: list[Path] = []

    @property
    def index(self) -> Path:
        """The journal file itself; its presence means a change did not finish."""
        return self.folder / "journal.json"

    def begin(self, changes: list[FileChange]) -> None:
        """Save backups and the list of paths before the first byte changes."""
        if self.folder.exists():
            shutil.rmtree(self.folder)
        self.folder.mkdir(parents=True)
        try:
            entries = []
            for number, change in enumerate(changes):
                backup = None
                if change.before is not None:
                    backup = f"{number}.bak"
                    source = self.root / change.path
                    shutil.copy2(source, self.folder / backup)
                entries.append({"path": str(change.path), "backup": backup})
            index = json.dumps({"changes": entries}).encode("utf-8")
            write_atomically(self.index, index, None)
        except BaseException:
            self.finish()  # nothing has changed yet: drop the partial journal
            raise

    def make_parents(self, folder: Path) -> None:
        """Create missing folders, remembering them so a roll-back removes them."""
        missing = []
        while not folder.exists():
            missing.append(folder)
            folder = folder.parent
        if not missing:
            return
        # recorded before they exist: a kill between mkdir and the record would orphan them
        self.created_dirs.extend(reversed(missing))
        self._save_dirs()
        for path in reversed(missing):
            path.mkdir()

    def _save_dirs(self) -> None:
        data = json.loads(self.index.read_text(encoding="utf-8"))
        data["dirs"] = [str(path.relative_to(self.root)) for path in self.created_dirs]
        write_atomically(self.index, json.dumps(data).encode("utf-8"), None)

    def roll_back(self) -> None:
        """Put back every file the journal names, remove created folders, drop the journal."""
        data = json.loads(self.index.read_text(encoding="utf-8"))
        for entry in reversed(data["changes"]):
            target = self.root / entry["path"]
            _remove_temporaries(written_path(target))
            if entry["backup"] is None:
                target.unlink(missing_ok=True)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(self.folder / entry["backup"], target)
        for relative in sorted(data.get("dirs", []), key=len, reverse=True):
            with contextlib.suppress(OSError):
                (self.root / relative).rmdir()
        self.finish()

    def finish(self) -> None:
        """Drop the journal: the change is complete (or undone)."""
        shutil.rmtree(self.folder, ignore_errors=True)
        with contextlib.suppress(OSError):
            (self.root / STATE_DIR).rmdir()  # only if nothing else lives there


def recover(root: Path) -> bool:
    """Roll back a change a killed process left half-done; True if there was one."""
    journal = Journal(root)
    if not journal.index.exists():
        if journal.folder.exists():
            journal.finish()  # killed before the journal was complete: nothing changed yet
        return False
    journal.roll_back()
    return True


def lock_path(root: Path) -> Path:
    """The workspace's lock file: outside the workspace, so it never shows up in its tree."""
    digest = hashlib.sha256(str(root.resolve()).encode("utf-8")).hexdigest()[:24]
    folder = Path(tempfile.gettempdir()) / f"multichat-locks-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder / f"{digest}.lock"


@contextlib.contextmanager
def workspace_lock(root: Path) -> Iterator[None]:
    """Hold the workspace's lock (one writing command at a time), recovering first."""
    path = lock_path(root)
    lock = FileLock(str(path), timeout=LOCK_TIMEOUT_SECONDS)
    try:
        lock.acquire()
    except Timeout:
        raise WorkspaceBusy(
            f"another multichat command has been changing {root} for "
            f"{LOCK_TIMEOUT_SECONDS:g} s; wait for it, or remove {path} if it died"
        ) from None
    try:
        recover(root)
        yield
    finally:
        lock.release()


def written_path(path: Path) -> Path:
    """Where writing ``path`` lands: the file a symlink points at, so the link stays a link.

    A dangling link, like a missing file, is written in place (the link is replaced).
    """
    if path.is_symlink() and path.exists():
        return path.resolve()
    return path


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def _remove_temporaries(path: Path) -> None:
    """Delete what a killed :func:`write_atomically` of ``path`` left beside it."""
    if path.parent.is_dir():
        for leftover in path.parent.glob(f".{glob.escape(path.name)}.{'?' * 8}.tmp"):
            leftover.unlink(missing_ok=True)


def _remove_empty_parents(folder: Path, root: Path) -> None:
    while folder != root and folder.is_relative_to(root):
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent
