"""The documentation site builds with ``mkdocs build --strict``; the build fails on a broken link or
a page left out of nav, and its CLI reference, rendered from the Typer app, lists every command."""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer.main

from multichat.cli.app import app
from multichat.generator.answers import template_presets

ROOT = Path(__file__).resolve().parent.parent
#: Pages generated at build time (docs/hooks/): they must not be committed as well.
GENERATED = ("index.md", "cli-reference.md")


def _build(project: Path, site: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=project,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},  # Material's end-of-life banner
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _copy_project(destination: Path) -> Path:
    """What the site is built from, copied so that a test can break it."""
    destination.mkdir()
    for name in ("mkdocs.yml", "README.md", "pyproject.toml"):
        shutil.copy(ROOT / name, destination / name)
    shutil.copytree(
        ROOT / "docs", destination / "docs", ignore=shutil.ignore_patterns("__pycache__")
    )
    return destination


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("site")
    built = _build(ROOT, folder)
    assert built.returncode == 0, built.stderr
    return folder


def _plain(markup: str) -> str:
    """What a reader sees of an HTML fragment."""
    return html.unescape(re.sub(r"<[^>]+>", "", markup))


def test_the_site_has_every_page(site: Path):
    pages = ["index.html", "cli/index.html", "cli-reference/index.html", "quickstart/index.html"]
    pages += ["performance/index.html", "security/index.html", "architecture/index.html"]
    pages += ["provider-guide/index.html", "platforms/index.html"]
    # A page per chat platform preset (blank and sandbox are not platforms).
    presets = set(template_presets(ROOT / "copier.yml")) - {"blank", "sandbox"}
    assert presets
    pages += [f"platforms/{preset}/index.html" for preset in sorted(presets)]
    missing = [page for page in pages if not (site / page).is_file()]
    assert missing == []
    assert (site / "search" / "search_index.json").is_file()


def test_the_home_page_is_the_readme(site: Path):
    home = _plain((site / "index.html").read_text(encoding="utf-8"))
    assert "uv run multichat demo" in home
    assert 'href="quickstart/"' in (site / "index.html").read_text(encoding="utf-8")


def test_a_broken_link_or_a_page_left_out_of_nav_fails_the_build(tmp_path: Path):
    project = _copy_project(tmp_path / "project")
    (project / "docs" / "orphan.md").write_text("# Orphan\n\nNot in nav.\n")
    security = project / "docs" / "security.md"
    security.write_text(security.read_text() + "\nSee [gone](no-such-page.md).\n")

    built = _build(project, tmp_path / "site")

    assert built.returncode != 0
    assert "orphan.md" in built.stderr
    assert "no-such-page.md" in built.stderr


def test_generated_pages_are_not_committed():
    assert [name for name in GENERATED if (ROOT / "docs" / name).exists()] == []


def _visible_commands(command: Any, path: str) -> list[tuple[str, Any]]:
    found = [(path, command)]
    for name, child in sorted(getattr(command, "commands", {}).items()):
        if not getattr(child, "hidden", False):
            found += _visible_commands(child, f"{path} {name}")
    return found


def test_the_cli_reference_has_every_command_and_option(site: Path):
    page = (site / "cli-reference" / "index.html").read_text(encoding="utf-8")
    sections = dict(
        (match[1], _plain(match[2]))
        for match in re.finditer(r'<h2 id="([^"]+)"(.*?)(?=<h2 id=|$)', page, flags=re.DOTALL)
    )
    commands = _visible_commands(typer.main.get_command(app), "multichat")
    assert len(commands) > 10
    missing: list[str] = []
    for path, command in commands:
        section = sections.get(path.replace(" ", "-"))
        if section is None:
            missing.append(path)
            continue
        flags = [
            flag
            for parameter in command.params
            if not getattr(parameter, "hidden", False)
            for flag in parameter.opts
            if flag.startswith("-")
        ]
        missing += [f"{path} {flag}" for flag in flags if flag not in section]
        if command.help:
            first_line = command.help.strip().splitlines()[0]
            if first_line not in section:
                missing.append(f"{path}: {first_line}")
    assert missing == []
