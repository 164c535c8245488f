"""Emoji names both ways, for platforms whose reactions take the character itself.

The tools take a name without colons (``thumbsup``, ``+1``, ``eyes``: Slack's and GitHub's
aliases, as the ``emoji`` package knows them); Google Chat's ``Emoji.unicode``, Graph's
``setReaction``, Matrix's ``m.annotation`` key and Discord's standard emoji want the
character, and answers carry the character back.
"""

from __future__ import annotations

import emoji

from multichat.errors import UserError


def emoji_character(name: str) -> str:
    """The character of an emoji name (``thumbsup``, ``:thumbsup:`` or ``👍`` itself -> ``👍``).

    Raises:
        UserError: no emoji has that name.
    """
    if emoji.is_emoji(name):
        return name
    name = name.strip().strip(":")
    character = emoji.emojize(f":{name}:", language="alias")
    if character == f":{name}:":
        raise UserError(f"no emoji is called {name!r}; use a name such as thumbsup, eyes or tada")
    return character


def emoji_name(character: str) -> str:
    """The name of an emoji character (``👍`` -> ``thumbsup``); other text comes back as is."""
    named = emoji.demojize(character, language="alias")
    if named.startswith(":") and named.endswith(":") and named.count(":") == 2:
        return named[1:-1]
    return character
