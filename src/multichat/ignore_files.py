"""What git and a Docker build would carry off a workspace, and the template lines that stop it.

git is asked itself (``git check-ignore --no-index``), so every rule it knows counts: nested
``.gitignore`` files, negations, ``core.excludesFile``; and ``git ls-files`` for what it already
tracks, which no ignore line takes back. A ``.dockerignore`` is read as Docker reads
one (https://docs.docker.com/build/concepts/context/#dockerignore-files): each pattern from
the build context's root, ``**/`` for any folder, a folder's pattern covering all inside it,
and the last line that matches a path deciding, so a ``!`` line copies again what it matches.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

GITIGNORE = ".gitignore"
DOCKERIGNORE = ".dockerignore"
#: Seconds ``git check-ignore`` may take before the check is skipped.
GIT_TIMEOUT = 30.0


def patterns(text: str) -> list[str]:
    """The patterns of an ignore file's text: its lines without blanks and comments."""
    stripped = (line.strip() for line in text.splitlines())
    return [line for line in stripped if line and not line.startswith("#")]


def template_patterns(name: str) -> list[str]:
    """The patterns of the workspace template's ignore file ``name`` (``.gitignore``, ...)."""
    from multichat.errors import MultichatError
    from multichat.generator.template_source import template_root

    try:
        path = template_root() / "template" / "workspace" / name
        return patterns(path.read_text(encoding="utf-8"))
    except (MultichatError, OSError, UnicodeDecodeError):
        return []


def git_would_commit(root: Path, paths: Sequence[str]) -> list[str] | None:
    """Those of ``paths`` (relative to ``root``; a folder ends in ``/``) git does not ignore.

    ``None`` when git is not on PATH or ``root`` is not in a git work tree: nothing to ask.
    """
    if not paths:
        return None
    answer = _ask_git(
        root,
        ["check-ignore", "--no-index", "-z", "--stdin"],
        stdin="".join(f"{path}\0" for path in paths),
        answered=(0, 1),  # 1: none of them is ignored
    )
    if answer is None:
        return None
    ignored = set(answer.split("\0"))
    return [path for path in paths if path not in ignored]


def git_tracks(root: Path, paths: Sequence[str]) -> list[str] | None:
    """Those of ``paths`` git already tracks (a folder: any file in it), ignored or not.

    An ignore line does not untrack a file: one committed before it was ignored stays in
    every later commit. ``None`` when git is not on PATH or ``root`` is not in a work tree.
    """
    if not paths:
        return None
    answer = _ask_git(root, ["--literal-pathspecs", "ls-files", "-z", "--", *paths])
    if answer is None:
        return None
    tracked = [name for name in answer.split("\0") if name]
    return [
        path
        for path in paths
        if path in tracked or (path.endswith("/") and any(t.startswith(path) for t in tracked))
    ]


def _ask_git(
    root: Path, arguments: list[str], stdin: str | None = None, answered: tuple[int, ...] = (0,)
) -> str | None:
    """The output of ``git ARGUMENTS`` run in ``root``.

    ``None`` when git is not on PATH, fails (128: not a git work tree) or takes over
    :data:`GIT_TIMEOUT`.
    """
    git = shutil.which("git")
    if git is None:
        return None
    try:
        result = subprocess.run(
            [git, *arguments],
            cwd=root,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout if result.returncode in answered else None


def docker_would_copy(root: Path, paths: Sequence[str]) -> list[str] | None:
    """Those of ``paths`` a build of ``root``'s Dockerfile would copy; ``None``: no Dockerfile."""
    if not (root / "Dockerfile").is_file():
        return None
    try:
        lines = patterns((root / DOCKERIGNORE).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        lines = []
    return [path for path in paths if not docker_excludes(lines, path)]


def docker_excludes(lines: Sequence[str], path: str) -> bool:
    """Whether ``.dockerignore`` ``lines`` keep ``path`` out of the build context.

    The last line that matches decides; a ``!`` line matching ``path``, or anything inside
    a folder ``path``, lets it (or that part of it) in again.
    """
    excluded = False
    for line in lines:
        if not line.startswith("!"):
            excluded = excluded or covers(line, path, docker=True)
        elif excluded and (covers(line[1:], path, docker=True) or _inside(line[1:], path)):
            excluded = False
    return excluded


def _inside(pattern: str, folder: str) -> bool:
    """Whether ``pattern`` names something inside ``folder`` (a path ending in ``/``)."""
    return folder.endswith("/") and pattern.strip("/").startswith(folder)


def covers(pattern: str, path: str, *, docker: bool) -> bool:
    """Whether ``pattern`` matches ``path`` or a folder it is in (``!`` lines match nothing).

    Docker reads every pattern from the root; git reads one without a ``/`` before its end as
    a name at any depth.
    """
    if pattern.startswith("!"):
        return False
    body = pattern.strip("/")
    if not body:
        return False
    parts = PurePosixPath(path).parts
    anchored = docker or "/" in pattern.rstrip("/")
    candidates = ["/".join(parts[:end]) for end in range(1, len(parts) + 1)] if anchored else parts
    regex = _regex(body)
    return any(regex.fullmatch(candidate) for candidate in candidates)


def covering_line(lines: Sequence[str], path: str, *, docker: bool) -> str:
    """The first of ``lines`` that covers ``path``, else ``path`` itself (a line of its own)."""
    return next((line for line in lines if covers(line, path, docker=docker)), path)


def _regex(pattern: str) -> re.Pattern[str]:
    """``**/`` any folders, ``*`` any name part, ``?`` one character; the rest literal."""
    tokens = re.split(r"(\*\*/|/\*\*|\*|\?)", pattern)
    wildcards = {"**/": "(?:.*/)?", "/**": "(?:/.*)?", "*": "[^/]*", "?": "[^/]"}
    return re.compile("".join(wildcards.get(token, re.escape(token)) for token in tokens))
