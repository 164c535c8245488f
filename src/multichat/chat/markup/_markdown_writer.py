"""CommonMark written back as a chat platform's Markdown dialect (Discord, Zulip).

mdformat, markdown-it-py's own Markdown renderer, does the writing and the escaping; this module
only overrides the few nodes where a platform's dialect differs from CommonMark.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache, partial

from mdformat.renderer import DEFAULT_RENDERERS, MDRenderer, RenderContext, RenderTreeNode
from mdformat.renderer.typing import Postprocess, Render

from multichat.chat.markup.commonmark import parse


@dataclass(frozen=True)
class MarkdownDialect:
    """Where one platform's Markdown differs from CommonMark."""

    max_heading_level: int = 6
    """Deeper headings are written as a bold line instead."""
    platform_syntax: re.Pattern[str] | None = None
    """``<...>`` forms (mentions, emoji) that stay live instead of being escaped as ``\\<``."""


@dataclass(frozen=True)
class _Extension:
    """An mdformat parser extension (``mdformat.plugins.ParserExtensionInterface``)."""

    RENDERERS: Mapping[str, Render]
    POSTPROCESSORS: Mapping[str, Postprocess] = field(default_factory=dict)


def write_markdown(markdown: str, dialect: MarkdownDialect) -> str:
    """Parse ``markdown`` as CommonMark and write it in ``dialect``."""
    options = {"mdformat": {}, "parser_extension": [_extension(dialect)]}
    return MDRenderer().render(parse(markdown), options, {}).rstrip("\n")


@cache
def _extension(dialect: MarkdownDialect) -> _Extension:
    return _Extension(
        {
            "em": partial(_wrap, "*"),  # "*" works inside words, "_" does not
            "strong": partial(_wrap, "**"),  # Discord reads "__x__" as underline
            "s": partial(_wrap, "~~"),
            "hardbreak": lambda node, context: "\n",  # a newline is a line break in chat
            "image": _image_as_link,
            "heading": partial(_heading, dialect.max_heading_level),
            "text": partial(_text, dialect.platform_syntax),
        }
    )


def _children(node: RenderTreeNode, context: RenderContext) -> str:
    return "".join(child.render(context) for child in node.children)


def _wrap(mark: str, node: RenderTreeNode, context: RenderContext) -> str:
    return mark + _children(node, context) + mark


def _heading(max_level: int, node: RenderTreeNode, context: RenderContext) -> str:
    text = _children(node, context).replace("\n", " ")
    level = int(node.tag[1:])
    return "#" * level + " " + text if level <= max_level else f"**{text}**"


def _image_as_link(node: RenderTreeNode, context: RenderContext) -> str:
    """Chat clients preview a linked image; ``![alt](src)`` would show a stray ``!``."""
    url = str(node.attrs.get("src", ""))
    if any(char in url for char in " ()<>"):
        url = "<" + url + ">"
    return f"[{_children(node, context)}]({url})"


def _text(syntax: re.Pattern[str] | None, node: RenderTreeNode, context: RenderContext) -> str:
    text = DEFAULT_RENDERERS["text"](node, context)
    if syntax is None:
        return text
    return syntax.sub(lambda match: match.group().replace("\\", ""), text)
