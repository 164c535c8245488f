"""Serve from the workspace's own environment when this multichat is installed elsewhere.

A multichat installed with ``uv tool install`` runs in its own environment; a provider that
needs a package the user added to the workspace (``uv add``) is only importable in the
workspace's ``.venv``. ``run``, ``auth`` and ``doctor`` therefore hand over to the workspace's
own ``multichat`` (``os.exec``: same process id, stdin and stdout, so MCP over stdio is
unaffected) when the workspace has an environment that is not this one.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from multichat.errors import UserError

#: Set in the handed-over process, so it never hands over again.
HANDED_OVER = "MULTICHAT_IN_WORKSPACE_ENV"


def workspace_multichat(root: Path) -> Path | None:
    """The ``multichat`` of the workspace's ``.venv``, if the workspace has an environment."""
    venv = root / ".venv"
    if not (venv / "pyvenv.cfg").is_file():
        return None
    for candidate in (venv / "bin" / "multichat", venv / "Scripts" / "multichat.exe"):
        if candidate.is_file():
            return candidate
    raise UserError(
        f"the workspace's environment {venv} has no multichat: run `uv sync` in {root} "
        "(or `uv run multichat ...` there)"
    )


def hand_over_to_workspace(root: Path, argv: list[str]) -> None:
    """Re-run ``multichat argv`` with the workspace's environment; return if this is it."""
    if os.environ.get(HANDED_OVER) or _runs_in(root / ".venv"):
        return
    own = workspace_multichat(root)
    if own is None:
        return
    os.environ[HANDED_OVER] = "1"
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(own, [str(own), *argv])  # noqa: S606 - our own console script, no shell


def _runs_in(venv: Path) -> bool:
    try:
        return Path(sys.prefix).resolve() == venv.resolve()
    except OSError:
        return False
