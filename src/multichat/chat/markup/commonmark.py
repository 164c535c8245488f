"""The Markdown the tools accept: CommonMark plus ``~~strike~~``, raw HTML off, safe links only.

One parser setup for every writer, so that "what counts as Markdown" and "which links go out"
have a single home. Raw HTML is parsed as text (a model's text must not inject tags), and a link
whose scheme is not http, https or mailto stays literal text.
"""

from __future__ import annotations

from functools import cache

from markdown_it import MarkdownIt
from markdown_it.token import Token

SAFE_LINK_SCHEMES = frozenset({"http", "https", "mailto"})


def is_safe_url(url: str) -> bool:
    """Whether ``url`` has an allowed scheme; relative and scheme-less URLs are not allowed."""
    scheme, colon, _ = url.partition(":")
    return bool(colon) and scheme.lower() in SAFE_LINK_SCHEMES


def new_parser() -> MarkdownIt:
    """A fresh parser (callers may add render rules to their own copy).

    ``breaks``: chat users expect a newline to be a line break, as every client renders it.
    """
    parser = MarkdownIt("commonmark", {"html": False, "breaks": True}).enable("strikethrough")
    # markdown-it checks every link and image URL here after normalising it (percent-encoding
    # control characters, so "java\tscript:" cannot sneak through); a refused link stays text.
    parser.validateLink = is_safe_url  # type: ignore[method-assign]
    return parser


@cache
def _shared_parser() -> MarkdownIt:
    return new_parser()


def parse(markdown: str) -> list[Token]:
    """The token stream of ``markdown`` (one parser, built once, shared by every writer)."""
    return _shared_parser().parse(markdown)
