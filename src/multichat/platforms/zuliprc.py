"""Read a ``zuliprc``: the file Zulip hands out with a user's email, API key and server.

https://zulip.com/api/configuring-python-bindings: an INI file whose ``[api]`` section holds
``email``, ``key`` and (optionally) ``site``. :func:`parse_zuliprc` turns it into the token
fields multichat stores for the ``basic`` scheme (``username`` beside ``access_token``), so
``multichat auth NAME --zuliprc PATH`` can import one. Pure: it reads no file and keeps nothing.
"""

from __future__ import annotations

import configparser
from typing import TypedDict

from multichat.errors import UserError


class ZulipRc(TypedDict):
    """A zuliprc's credentials as multichat stores them, and the server they are for."""

    username: str
    access_token: str
    site: str | None


def parse_zuliprc(text: str) -> ZulipRc:
    """The ``[api]`` email, key and site of a zuliprc's ``text``.

    ``site`` is normalised as Zulip's Python bindings do (zulip/zulip/__init__.py, Client):
    ``https://`` added when no scheme is given (``http://`` for ``localhost``), trailing
    slashes and a trailing ``/api`` removed; None when the file names no site.

    Raises:
        UserError: the text is not INI, or has no ``[api]`` email or key.
    """
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(text)
    except configparser.Error as exc:
        reason = str(exc).splitlines()[0]
        raise UserError(f"this zuliprc is not an INI file: {reason}") from None
    if not parser.has_section("api"):
        raise UserError("a zuliprc has an [api] section with email and key; this one has none")
    section = parser["api"]
    email = section.get("email", "").strip()
    key = section.get("key", "").strip()
    missing = [name for name, value in (("email", email), ("key", key)) if not value]
    if missing:
        raise UserError(f"this zuliprc's [api] section has no {' or '.join(missing)}")
    return {"username": email, "access_token": key, "site": _site(section.get("site", ""))}


def _site(value: str) -> str | None:
    site = value.strip()
    if not site:
        return None
    if not site.startswith(("http://", "https://")):
        site = ("http://" if site.startswith("localhost") else "https://") + site
    site = site.rstrip("/")
    return site.removesuffix("/api").rstrip("/")
