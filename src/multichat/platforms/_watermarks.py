"""A read marker kept locally, for platforms that have none (Teams channels through Graph).

Per channel, the time of the newest message a catch-up showed, in the workspace at
``.multichat/state/<provider>/<name>`` (JSON, written atomically, mode 0600). On a server for a
team each person has their own, beside their token (:func:`~multichat.runtime.users.user_folder`):
what one person has seen says nothing of what another has. A file that is missing or
unreadable counts as empty: the next catch-up starts afresh.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from multichat.atomic_file import write_atomically
from multichat.contract import STATE_DIR
from multichat.runtime.config import load_config
from multichat.runtime.users import current_user, no_user_error, user_folder, users_required


def state_file(provider: str, name: str) -> Path:
    """``<workspace>/.multichat/state/<provider>/<name>``, or the calling person's own.

    A person's is ``.multichat/users/<key>/<provider>/state/<name>``.

    Raises:
        TokenAccessDenied: a multi-user server got a call that names no person.
    """
    root = load_config().root
    user = current_user.get()
    if user is not None:
        return user_folder(root, user, provider) / "state" / name
    if users_required():
        raise no_user_error(provider)
    return root / STATE_DIR / "state" / provider / name


def where_kept(provider: str, name: str) -> str:
    """Where :func:`state_file` is, as a tool's note says it.

    A person on a team server is told only that it is theirs alone: server paths are not
    theirs to see.
    """
    if current_user.get() is not None:
        return "a record this server keeps for you alone"
    return f"{(STATE_DIR / 'state' / provider / name).as_posix()} in the workspace"


def read_watermarks(path: Path) -> dict[str, str]:
    """Channel id -> the newest time shown, as stored."""
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(stored, dict):
        return {}
    return {str(key): str(value) for key, value in stored.items()}


def write_watermarks(path: Path, marks: Mapping[str, str]) -> None:
    """Store ``marks`` (creating the folder)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    content = json.dumps(dict(sorted(marks.items())), indent=1).encode()
    write_atomically(path, content, 0o600)
