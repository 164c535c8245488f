"""Star markup, the shape Slack mrkdwn and Google Chat's text format share, both ways.

Both write ``*bold*``, ``_italic_``, ``~strike~``, `` `code` ``, ``<url|label>``; each platform
module supplies what differs (escaping, bullets, what an ``<...>`` means).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from markdown_it.tree import SyntaxTreeNode

from multichat.chat.markup._reading import split_code
from multichat.chat.markup.commonmark import parse


@dataclass(frozen=True)
class StarWriter:
    """How one platform spells what the Markdown tree holds."""

    escape: Callable[[str], str]
    bullet: str
    link: Callable[[str, str], str]  # (url, label) -> markup


@dataclass(frozen=True)
class StarReader:
    """How one platform's text turns back into Markdown."""

    unescape: Callable[[str], str]
    angle: Callable[[str], str | None]  # inside of <...> -> Markdown, or None to keep it


def write_star_markup(markdown: str, writer: StarWriter) -> str:
    """Render CommonMark as star markup: headings become bold lines, lists text bullets."""
    tree = SyntaxTreeNode(parse(markdown))
    return "\n\n".join(_block(node, writer) for node in tree.children).strip("\n")


def _block(node: SyntaxTreeNode, writer: StarWriter) -> str:
    kind = node.type
    if kind == "paragraph":
        return _inline(node.children, writer, in_bold=False)
    if kind == "heading":
        return "*" + _inline(node.children, writer, in_bold=True) + "*"
    if kind in ("bullet_list", "ordered_list"):
        return _list(node, writer)
    if kind == "blockquote":
        inner = "\n".join(_block(child, writer) for child in node.children)
        return "\n".join("> " + line for line in inner.split("\n"))
    if kind in ("fence", "code_block"):
        return "```\n" + writer.escape(node.content) + "```"
    if kind == "hr":
        return "———"
    return writer.escape(node.content)


def _list(node: SyntaxTreeNode, writer: StarWriter) -> str:
    start = int(str(node.attrs.get("start", 1)))
    lines: list[str] = []
    for number, item in enumerate(node.children, start):
        marker = f"{number}. " if node.type == "ordered_list" else writer.bullet
        body = "\n".join(_block(child, writer) for child in item.children).split("\n")
        lines.append(marker + body[0])
        lines.extend("    " + line if line else line for line in body[1:])
    return "\n".join(lines)


def _inline(nodes: list[SyntaxTreeNode], writer: StarWriter, *, in_bold: bool) -> str:
    if len(nodes) == 1 and nodes[0].type == "inline":
        nodes = nodes[0].children
    parts: list[str] = []
    for node in nodes:
        kind = node.type
        if kind == "text":
            parts.append(writer.escape(node.content))
        elif kind in ("softbreak", "hardbreak"):
            parts.append("\n")
        elif kind == "code_inline":
            parts.append("`" + writer.escape(node.content) + "`")
        elif kind == "strong":
            inner = _inline(node.children, writer, in_bold=True)
            parts.append(inner if in_bold else f"*{inner}*")
        elif kind == "em":
            parts.append("_" + _inline(node.children, writer, in_bold=in_bold) + "_")
        elif kind == "s":
            parts.append("~" + _inline(node.children, writer, in_bold=in_bold) + "~")
        elif kind in ("link", "image"):
            url = str(node.attrs.get("href") or node.attrs.get("src") or "")
            label = _plain(node) if kind == "link" else str(node.attrs.get("alt") or "")
            if url:
                parts.append(writer.link(url, label or node.content or url))
            else:  # "[label]()": nothing to link to, so only the label (an empty <> is not text)
                parts.append(writer.escape(label or node.content))
        else:
            parts.append(writer.escape(node.content))
    return "".join(parts)


def _plain(node: SyntaxTreeNode) -> str:
    """A link label's text without formatting (labels are plain in both platforms)."""
    if node.type in ("text", "code_inline"):
        return node.content
    if node.type in ("softbreak", "hardbreak"):
        return " "
    return "".join(_plain(child) for child in node.children)


# ---- reading -----------------------------------------------------------------------------

_ANGLE = re.compile(r"<([^<>\n]+)>")
# One style span: an opening mark not inside a word, text not starting or ending with a
# space, the same mark closing, not followed by a word character (so snake_case stays).
_STYLE = re.compile(r"(?<![\w*_~])([*_~])(?=[^\s*_~])([^\n]*?[^\s])\1(?![\w*_~])")
_MARKDOWN_STYLE = {"*": "**", "_": "*", "~": "~~"}
_STYLE_MARK = re.compile("[*_~]")
_HOLE = re.compile("\ue000(\\d+)\ue001")
# Slack and Google Chat only know closed ```blocks``` and `spans`; an unclosed one is text.
_STAR_CODE = re.compile(r"```.+?```|`[^`\n]+`", re.DOTALL)
# Text with none of these reads back unchanged: no angle, entity, style mark, code or hole.
_MARKUP_CHARACTER = re.compile("[<&*_~`\ue000\ue001]")


def read_star_markup(text: str, reader: StarReader) -> str:
    """Turn star markup into Markdown; code is kept as written, ``<...>`` goes to ``reader``."""
    if _MARKUP_CHARACTER.search(text) is None:  # most messages: nothing to convert
        return text
    text = text.replace("\ue000", "\ufffd").replace("\ue001", "\ufffd")
    held: list[str] = []

    def hold(markdown: str) -> str:
        held.append(markdown)
        return f"\ue000{len(held) - 1}\ue001"

    def angle(match: re.Match[str]) -> str:
        converted = reader.angle(match.group(1))
        return match.group() if converted is None else hold(converted)

    pieces: list[str] = []
    if "`" not in text:  # no code to keep as written (most messages with markup)
        pieces.append(_ANGLE.sub(angle, text) if "<" in text else text)
    else:
        after_fence = False
        for piece, is_code in split_code(text, _STAR_CODE):
            if after_fence and not piece.startswith("\n"):
                pieces.append("\n")
            after_fence = is_code and piece.startswith("```") and "\n" in piece
            if not is_code:
                pieces.append(_ANGLE.sub(angle, piece))
            elif after_fence:
                pieces.append(hold(_fenced(reader.unescape(piece), pieces)))
            else:
                pieces.append(hold(reader.unescape(piece)))
    styled = reader.unescape("".join(pieces))
    if _STYLE_MARK.search(styled) is not None:
        styled = _restyle(styled)
    if not held:
        return styled
    return _HOLE.sub(lambda match: held[int(match.group(1))], styled)


def _restyle(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        mark = _MARKDOWN_STYLE[match.group(1)]
        return mark + _restyle(match.group(2)) + mark

    return _STYLE.sub(replace, text)


def _fenced(code: str, before: list[str]) -> str:
    """A multi-line ```block``` as a Markdown fence: its fences on lines of their own."""
    opening = "\n```\n" if before and not before[-1].endswith("\n") else "```\n"
    return opening + code[3:-3].strip("\n") + "\n```"
