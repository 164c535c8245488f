"""Serve from the workspace's own environment when this multichat is installed elsewhere.

A multichat installed with ``uv tool install`` runs in its own environment; a provider that
needs a package the user added to the workspace (``uv add``) is only importable in the
workspace's ``.venv``. ``run``, ``auth`` and ``doctor`` therefore hand over to the workspace's
own ``multichat`` (``os.exec``: same process id, stdin and stdout, so MCP over stdio is
unaffected) when the workspace has an environment that is not this one.

An environment without a multichat (a ``uv run`` that could not install it leaves one) is
passed over with a one-line note, unless the workspace pins its multichat: a source in
``[tool.uv.sources]`` or a version range this one is outside. Then ``uv sync`` is the fix.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import typer

from multichat.errors import UserError
from multichat.invocation import runs_in, venv_multichat

#: Set in the handed-over process, so it never hands over again.
HANDED_OVER = "MULTICHAT_IN_WORKSPACE_ENV"


def workspace_multichat(root: Path) -> Path | None:
    """The ``multichat`` of the workspace's ``.venv``; None to run this one instead.

    Raises:
        UserError: the environment has no multichat and the workspace pins one this is not.
    """
    venv = root / ".venv"
    own = venv_multichat(venv)
    if own is not None or not (venv / "pyvenv.cfg").is_file():
        return own
    pinned = _pinned_elsewhere(root)
    if pinned:
        raise UserError(
            f"the workspace's environment {venv} has no multichat, and {pinned}: "
            f"run `uv sync` in {root}"
        )
    from multichat import __version__

    typer.echo(
        f"multichat: note: {venv} has no multichat; using multichat {__version__} from "
        f"{sys.prefix} (`uv sync` there to serve with the workspace's own packages)",
        err=True,
    )
    return None


def hand_over_to_workspace(root: Path, argv: list[str]) -> None:
    """Re-run ``multichat argv`` with the workspace's environment; return if this is it."""
    if os.environ.get(HANDED_OVER) or runs_in(root / ".venv"):
        return
    own = workspace_multichat(root)
    if own is None:
        return
    os.environ[HANDED_OVER] = "1"
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(own, [str(own), *argv])  # noqa: S606 - our own console script, no shell


def _pinned_elsewhere(root: Path) -> str:
    """Why the workspace wants a multichat other than this one, or ``""`` if it does not."""
    from multichat import __version__
    from multichat.generator.install_source import declared_requirement, declared_source

    source = declared_source(root)
    if source is not None:
        return f"it installs multichat from {source} ([tool.uv.sources])"
    requirement = declared_requirement(root)
    if requirement is not None and not requirement.specifier.contains(
        __version__, prereleases=True
    ):
        return f"it requires {requirement}, this is {__version__}"
    return ""
