"""Where tokens live: a small store interface and its default, a JSON file.

The file is created 0600 (never briefly wider), written to a temporary file in the same folder,
fsynced and renamed into place, so a process killed at any moment leaves the old file or the new
one. A cross-process lock (filelock) guards read-modify-write. A write that fails (disk full,
read-only folder) removes its temporary file and raises :class:`TokenStoreError` naming the path
and the reason, never the token.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

from filelock import FileLock, Timeout

from multichat.atomic_file import write_atomically
from multichat.errors import MultichatError


class TokenStoreError(MultichatError):
    """The token store could not be read or written."""


class TokenStoreUnreachable(TokenStoreError):
    """The token store (Redis) did not answer: nothing is known of the token."""


class TokenStore(Protocol):
    """What the runtime needs of a token store; the JSON file is the default, Redis the other."""

    @property
    def location(self) -> str:
        """Where the token lives, for people (a path; a Redis URL without its password)."""
        ...

    def load(self) -> dict[str, Any] | None:
        """Return the stored token, or ``None`` when there is none."""
        ...

    def save(self, token: dict[str, Any]) -> None:
        """Replace the stored token atomically."""
        ...

    def delete(self) -> bool:
        """Remove the stored token; return whether there was one."""
        ...

    def lock(self) -> contextlib.AbstractContextManager[object]:
        """A lock that other processes using the same store respect."""
        ...


def decode_token(raw: str | bytes, described: str) -> dict[str, Any]:
    """A stored token's JSON as a dict; ``described`` names where it is stored (never its text).

    Raises:
        TokenStoreError: not UTF-8, not JSON, or JSON that is not an object.
    """
    try:
        # Bytes are UTF-8 only: json.loads would also guess UTF-16 and UTF-32 from them.
        data = json.loads(raw.decode("utf-8") if isinstance(raw, bytes) else raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise TokenStoreError(
            f"{described} is not valid JSON; delete it and authenticate again"
        ) from None
    if not isinstance(data, dict):
        raise TokenStoreError(f"{described} does not hold a JSON object")
    return data


class JsonFileTokenStore:
    """A token kept in one JSON file with mode 0600."""

    def __init__(self, path: Path, lock_timeout: float = 30.0) -> None:
        """Use ``path``; its lock file sits beside it as ``<name>.lock``."""
        self.path = path
        self._lock = FileLock(str(path.with_name(path.name + ".lock")), timeout=lock_timeout)

    def __repr__(self) -> str:
        """Name the file, never its content."""
        return f"JsonFileTokenStore({str(self.path)!r})"

    @property
    def location(self) -> str:
        """The token file's path."""
        return str(self.path)

    def load(self) -> dict[str, Any] | None:
        """Read the token file; ``None`` when it does not exist."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise TokenStoreError(f"cannot read token file {self.path}: {exc.strerror}") from None
        return decode_token(raw, f"token file {self.path}")

    def save(self, token: dict[str, Any]) -> None:
        """Write ``token`` atomically with mode 0600.

        Raises:
            TokenStoreError: the file could not be written; the old one, if any, is untouched.
        """
        self._ensure_folder()
        payload = json.dumps(token, indent=2, sort_keys=True).encode("utf-8")
        try:
            write_atomically(self.path, payload, 0o600)
        except OSError as exc:
            raise self._write_error(exc) from None

    def _write_error(self, exc: OSError) -> TokenStoreError:
        return TokenStoreError(f"cannot write token file {self.path}: {exc.strerror or exc}")

    def delete(self) -> bool:
        """Remove the token file."""
        try:
            self.path.unlink()
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise TokenStoreError(
                f"cannot delete token file {self.path}: {exc.strerror or exc}"
            ) from None
        return True

    @contextlib.contextmanager
    def lock(self) -> Iterator[object]:
        """Hold the cross-process lock beside the token file."""
        self._ensure_folder()
        try:
            self._lock.acquire()
        except Timeout:
            raise TokenStoreError(
                f"token file {self.path} stayed locked by another process for "
                f"{self._lock.timeout:g} s; try again"
            ) from None
        except OSError as exc:
            raise TokenStoreError(
                f"cannot lock token file {self.path}: {exc.strerror or exc}"
            ) from None
        try:
            yield self
        finally:
            self._lock.release()

    def _ensure_folder(self) -> None:
        missing = [p for p in (self.path.parent, *self.path.parent.parents) if not p.exists()]
        try:
            for folder in reversed(missing):
                folder.mkdir(mode=0o700, exist_ok=True)
        except OSError as exc:
            raise TokenStoreError(
                f"cannot create the token folder {self.path.parent}: {exc.strerror or exc}"
            ) from None
