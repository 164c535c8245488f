"""``credentials.json``: the OAuth client's id and secret, flat or in Google's shape.

Read strictly, for sign-in and ``multichat doctor`` alike: a file that is not
``{"client_id": "...", "client_secret": "..."}`` is one line naming the file and what is
wrong, never a value from it.
"""

from __future__ import annotations

import json
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from multichat.errors import ConfigError

#: The keys Google's downloaded client files nest the client under: ``installed`` for a desktop
#: app, ``web`` for a web client (https://developers.google.com/identity/protocols/oauth2/native-app).
SECTIONS = ("installed", "web")


class BadClientFile(ConfigError):
    """``credentials.json`` is there, but is not a client id and secret that can be read."""


@dataclass(frozen=True)
class ClientFile:
    """What the file holds; either may be absent (``oauth.client_id`` may supply the id)."""

    client_id: str | None
    client_secret: str | None = field(default=None, repr=False)


def read_client_file(path: Path) -> ClientFile | None:
    """The client in ``path``, or ``None`` when there is no file there.

    Raises:
        BadClientFile: it is a folder, unreadable, not UTF-8, not JSON, not an object, or
            holds a ``client_id`` or ``client_secret`` that is not a string.
    """
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise BadClientFile(f"{path} cannot be read ({exc.strerror})") from None
    if stat.S_ISDIR(info.st_mode):
        raise BadClientFile(f"{path} is a folder, not a file")
    if not stat.S_ISREG(info.st_mode):
        raise BadClientFile(f"{path} is not a regular file")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise BadClientFile(f"{path} cannot be read ({exc.strerror})") from None
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise BadClientFile(f"{path} is not a readable JSON file: it is not UTF-8 text") from None
    except json.JSONDecodeError as exc:  # its message names a position, never the text
        raise BadClientFile(
            f"{path} is not a readable JSON file: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    section, where = data, str(path)
    if isinstance(data, dict):
        key = next((key for key in SECTIONS if key in data), None)
        if key is not None:
            section, where = data[key], f"`{key}` in {path}"
    if not isinstance(section, dict):
        raise BadClientFile(
            f"{where} is a JSON {json_kind(section)}, not an object with client_id and "
            "client_secret"
        )
    for name in ("client_id", "client_secret"):
        value = section.get(name)
        if value is not None and not isinstance(value, str):
            raise BadClientFile(f"{where}: `{name}` is a JSON {json_kind(value)}, not a string")
    return ClientFile(section.get("client_id") or None, section.get("client_secret") or None)


def json_kind(value: Any) -> str:
    """JSON's name for the type of a parsed value: object, array, string, number..."""
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return "string" if isinstance(value, str) else "null"
