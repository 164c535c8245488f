"""Links that leave with the wheel point at pages that exist, at the address the project names.

The wheel carries no docs/ folder: help, doctor, generated files and the README PyPI shows
link to the repository's pages (``multichat.docs_pages``), one address in three homes that
cannot import each other (Python, copier.yml, pyproject.toml), kept equal here.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from ruamel.yaml import YAML

from multichat.docs_pages import DOCS, docs_page

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_the_address_is_the_one_pyproject_names():
    urls = PYPROJECT["project"]["urls"]
    assert DOCS.replace("/blob/", "/tree/", 1) == urls["Documentation"]
    assert f"{urls['Source']}/blob/main/docs" == DOCS
    copier = YAML(typ="safe").load((ROOT / "copier.yml").read_text())
    assert copier["multichat_docs"]["default"] == DOCS
    readme = PYPROJECT["tool"]["hatch"]["metadata"]["hooks"]["fancy-pypi-readme"]
    (substitution,) = readme["substitutions"]
    assert re.sub(substitution["pattern"], substitution["replacement"], "[a](docs/x.md)") == (
        f"[a]({docs_page('x.md')})"
    )


def test_every_linked_page_exists():
    code = "\n".join(path.read_text() for path in (ROOT / "src").rglob("*.py"))
    templates = "\n".join(p.read_text() for p in (ROOT / "template").rglob("*") if p.is_file())
    pages = re.findall(r"docs_page\(['\"]([^'\"]+)['\"]\)", code)
    pages += re.findall(r"\{\{ multichat_docs \}\}/(\S+?)(?=[\s`'\")]|\.\s|$)", templates)
    assert len(pages) >= 6  # new --help, two in checks.py, teams and google_chat twice each
    assert sorted(page for page in set(pages) if not (ROOT / "docs" / page).is_file()) == []


def test_no_generated_file_points_at_a_docs_folder_it_lacks():
    relative = re.compile(r"(?<![\w/.{}-])docs/")
    pointing = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "template").rglob("*")
        if path.is_file() and relative.search(path.read_text())
    ]
    assert pointing == []
