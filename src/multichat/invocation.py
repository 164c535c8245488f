"""How the user runs multichat, so that hints and MCP client entries name a command that works.

A workspace made by a multichat installed with ``uv tool install`` (or pipx, or pip) has no
multichat of its own: ``uv run multichat`` there would install ``multichat-mcp`` from the
package index (a second copy, perhaps another version, or nothing where the index lacks it).
So hints say ``uv run multichat`` only where the user runs it that way: from the workspace's
own environment, or in a workspace that installs multichat from a checkout
(``[tool.uv.sources]``, which ``uv run`` installs without the index). Otherwise they name this
multichat: ``multichat`` when the shell finds this one by that name, else its path, as
``django-admin startproject`` names ``python manage.py``. A client entry starts this multichat
by its absolute path, or ``uv run`` where the workspace's environment has a multichat.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

UV_RUN = "uv run multichat"
SCRIPT = "multichat.exe" if os.name == "nt" else "multichat"


@dataclass(frozen=True)
class Invocation:
    """How multichat is run for one workspace, as seen from this process."""

    #: ``uv run multichat`` is how the user runs it there (see the module docstring).
    via_uv: bool
    #: The workspace's environment has a multichat of its own (``uv run`` needs no index).
    workspace_has_multichat: bool
    #: This multichat's console script, absolute; None when there is none (``python -m``).
    executable: Path | None
    #: The shell's ``multichat`` is this one (outside ``uv run``, which puts its own first).
    on_path: bool

    @property
    def words(self) -> str:
        """What to type in the workspace before a command: ``uv run multichat``, ``multichat``..."""
        if self.via_uv:
            return UV_RUN
        if self.on_path:
            return "multichat"
        return shlex.join(self.argv)

    @property
    def argv(self) -> list[str]:
        """This multichat by absolute path: the console script, or ``python -m multichat``."""
        if self.executable is not None:
            return [str(self.executable)]
        return [sys.executable, "-m", "multichat"]

    @property
    def serves_with_uv(self) -> bool:
        """Whether an MCP client should start the server with ``uv run`` (no index needed)."""
        return self.via_uv or self.workspace_has_multichat


def invocation(workspace: Path) -> Invocation:
    """How multichat is run for ``workspace`` (which may not exist yet)."""
    from multichat.generator.install_source import declared_source

    venv = workspace / ".venv"
    own = own_executable()
    return Invocation(
        via_uv=runs_in(venv) or declared_source(workspace) is not None,
        workspace_has_multichat=venv_multichat(venv) is not None,
        executable=own,
        on_path=own is not None and _shell_finds(own),
    )


def venv_multichat(venv: Path) -> Path | None:
    """The ``multichat`` console script of the environment ``venv``, if it has one."""
    if not (venv / "pyvenv.cfg").is_file():
        return None
    for candidate in (venv / "bin" / "multichat", venv / "Scripts" / "multichat.exe"):
        if candidate.is_file():
            return candidate
    return None


def runs_in(venv: Path) -> bool:
    """Whether this multichat runs from the environment ``venv``."""
    try:
        return Path(sys.prefix).resolve() == venv.resolve()
    except OSError:
        return False


def own_executable() -> Path | None:
    """The console script that started this process, or the one of this environment."""
    started = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    for candidate in (started, Path(sysconfig.get_path("scripts")) / SCRIPT):
        if candidate is not None and candidate.name == SCRIPT and candidate.is_file():
            return candidate.absolute()
    return None


def _shell_finds(executable: Path) -> bool:
    """Whether ``multichat`` typed in the user's shell starts ``executable``."""
    # `uv run` puts its environment first on PATH and says so in these two variables.
    virtual_env = os.environ.get("VIRTUAL_ENV")
    under_uv_run = bool(
        "UV_RUN_RECURSION_DEPTH" in os.environ and virtual_env and runs_in(Path(virtual_env))
    )
    found = None if under_uv_run else shutil.which("multichat")
    if found is None:
        return False
    try:
        return Path(found).resolve() == executable.resolve()
    except OSError:
        return False
