"""The bearer token a workspace's HTTP server requires when none is given (as Jupyter does).

Made once, on the first ``run --transport http`` without ``--auth-token``,
``MULTICHAT_HTTP_TOKEN`` or a JWT verifier, and kept in ``.multichat/http-token`` (mode 0600,
git-ignored) so that configured MCP clients keep working across restarts. Other users of the
machine cannot read it, so a loopback server is no longer open to them. ``run`` decides on a new
token before anything loads (:func:`pending_workspace_token`) but saves it only once it is about
to serve (:func:`keep_token`), where it prints it: a run that fails leaves no unseen token.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from dataclasses import dataclass, field
from pathlib import Path

from multichat.atomic_file import fsync_folder
from multichat.contract import HTTP_TOKEN_FILE
from multichat.errors import InvalidHttpToken, MultichatError


@dataclass(frozen=True)
class WorkspaceToken:
    """The workspace's HTTP token, where it is kept, and whether this call made it.

    ``saved`` is false for a token made but not in its file yet (see :func:`keep_token`).
    """

    token: str = field(repr=False)
    path: Path
    created: bool
    saved: bool = True


def workspace_http_token(root: Path) -> WorkspaceToken:
    """The token in ``root/.multichat/http-token``, made (0600, atomically) if there is none.

    Two servers starting at once agree on one token: the file is created with a hard link,
    which fails if another process made it first, and then that one is read.

    Raises:
        InvalidHttpToken: the file exists but is readable by others or holds no usable token.
        MultichatError: the file cannot be read or written.
    """
    return kept_secret(root / HTTP_TOKEN_FILE)


def kept_secret(path: Path) -> WorkspaceToken:
    """A random secret kept in ``path`` (0600), made by the first caller: see above.

    Raises:
        InvalidHttpToken: the file exists but is readable by others or is empty.
        MultichatError: the file cannot be read or written.
    """
    return keep_token(_existing_or_new(path))


def pending_workspace_token(root: Path) -> WorkspaceToken:
    """The token in ``root/.multichat/http-token``, or a new one not saved yet (``saved`` false).

    Raises:
        InvalidHttpToken: the file exists but is readable by others or holds no usable token.
        MultichatError: the file cannot be read.
    """
    return _existing_or_new(root / HTTP_TOKEN_FILE)


def keep_token(made: WorkspaceToken) -> WorkspaceToken:
    """``made`` saved in its file (0600, atomically), or the token another process saved first.

    Raises:
        InvalidHttpToken: another process's file is readable by others or empty.
        MultichatError: the file cannot be written.
    """
    if made.saved:
        return made
    path = made.path
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        _create_exclusively(path, f"{made.token}\n".encode())
    except FileExistsError:
        return WorkspaceToken(_read(path), path, created=False)
    except OSError as exc:
        raise MultichatError(f"cannot write {path}: {exc.strerror or exc}") from None
    return WorkspaceToken(made.token, path, created=True)


def _existing_or_new(path: Path) -> WorkspaceToken:
    try:
        return WorkspaceToken(_read(path), path, created=False)
    except FileNotFoundError:
        return WorkspaceToken(secrets.token_urlsafe(32), path, created=True, saved=False)


def _read(path: Path) -> str:
    """The token in ``path``; raises FileNotFoundError when there is no file."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        text = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise
    except (OSError, UnicodeDecodeError) as exc:
        raise MultichatError(f"cannot read the HTTP token file {path}: {exc}") from None
    if mode & 0o077:
        raise InvalidHttpToken(
            f"{path} is readable by other users (mode {mode:o}): run `chmod 600 {path}`, "
            "or delete it to get a new token"
        )
    if not text:
        raise InvalidHttpToken(f"{path} is empty: delete it to get a new token")
    return text


def _create_exclusively(path: Path, content: bytes) -> None:
    """Write ``content`` to a 0600 temporary file, then link it to ``path`` if that is free."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.link(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
    fsync_folder(path.parent)
