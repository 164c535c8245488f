"""``multichat init``: render the workspace template into a new or empty folder."""

from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from multichat.errors import UserError, WorkspaceNotEmpty, WorkspaceWriteError, os_error_text
from multichat.generator.install_source import install_source
from multichat.generator.template_source import render

WORKSPACE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


@dataclass(frozen=True)
class CreatedWorkspace:
    """The workspace folder and the files written into it."""

    root: Path
    files: list[Path]


def default_workspace_name(folder: Path) -> str:
    """A project name from the folder name (``My Chats`` -> ``my-chats``)."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", folder.name).strip("-.").lower()
    return slug or "my-chats"


def create_workspace(
    folder: Path, data: dict[str, Any] | None = None, *, dry_run: bool = False
) -> CreatedWorkspace:
    """Render a workspace into ``folder``, which must not exist yet or be empty.

    A new folder appears whole: the workspace is assembled beside it and renamed into place.
    """
    folder = folder.expanduser().absolute()
    if folder.exists() and not folder.is_dir():
        raise UserError(f"{folder} is a file; pick a folder name for the workspace")
    if folder.is_dir() and any(folder.iterdir()):
        raise WorkspaceNotEmpty(
            f"{folder} is not empty; pick a new folder (multichat init never overwrites files)"
        )
    name = (data or {}).get("workspace_name")
    if name is not None and not WORKSPACE_NAME.fullmatch(str(name)):
        raise UserError(
            f"invalid workspace name {name!r}: use letters, digits, dots, dashes and underscores"
        )
    requirement, source = install_source(folder)
    answers = {
        "workspace_name": default_workspace_name(folder),
        "multichat_requirement": requirement,
        "multichat_source": source,
        # The README is committed: it says `multichat`, not this machine's path to it.
        "multichat_command": "uv run multichat" if source else "multichat",
        **(data or {}),
    }
    with render("workspace", answers, defaults=True) as rendered:
        files = sorted(p.relative_to(rendered) for p in rendered.rglob("*") if p.is_file())
        if not dry_run:
            try:
                _move_into_place(rendered, folder)
            except OSError as error:  # undone already: say so, in one line
                raise WorkspaceWriteError(
                    f"could not write the workspace ({os_error_text(error)}); nothing was left "
                    f"in {folder}: free space or pick a writable folder, then run it again"
                ) from None
    return CreatedWorkspace(root=folder, files=[folder / f for f in files])


def _move_into_place(rendered: Path, folder: Path) -> None:
    if not folder.exists():
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
        try:
            shutil.copytree(rendered, staging, dirs_exist_ok=True)
            staging.rename(folder)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return
    try:
        for entry in rendered.iterdir():
            shutil.move(str(entry), str(folder / entry.name))
    except BaseException:
        _undo(folder)
        raise


def _undo(folder: Path) -> None:
    """Empty ``folder`` again (it was empty before ``init``)."""
    for entry in folder.iterdir():
        if entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
