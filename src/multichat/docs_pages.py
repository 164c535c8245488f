"""Where the documentation pages are, for words that reach people who installed the wheel.

The wheel carries no ``docs/`` folder, so help, ``doctor`` and generated files link to the pages
in the repository that ``[project.urls]`` in pyproject.toml names; a test keeps this equal to
it, and to copier.yml's ``multichat_docs``, which the templates use.
"""

from __future__ import annotations

DOCS = "https://github.com/multichat/multichat/blob/main/docs"


def docs_page(page: str) -> str:
    """The address of ``docs/PAGE``, e.g. ``docs_page("provider-guide.md")``."""
    return f"{DOCS}/{page}"
