"""Conventions that check themselves: every CLI command is documented and exercised by a test."""

from __future__ import annotations

import re
from pathlib import Path

import typer.main

from multichat.cli.app import app

ROOT = Path(__file__).resolve().parent.parent


def _command_paths() -> list[str]:
    # Typer bundles its own click, so groups are recognised by their `commands`, not by class.
    group = typer.main.get_command(app)
    paths: list[str] = []
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        if hasattr(command, "commands"):
            paths += [f"{name} {sub}" for sub in command.commands]
        else:
            paths.append(name)
    return sorted(paths)


def test_every_command_has_a_section_in_the_cli_reference():
    reference = (ROOT / "docs" / "cli.md").read_text()
    headings = set(re.findall(r"^## multichat (.+)$", reference, flags=re.MULTILINE))
    missing = [path for path in _command_paths() if path not in headings]
    assert missing == []


def test_every_command_is_run_by_some_test():
    sources = "\n".join(p.read_text() for p in (ROOT / "tests").rglob("test_*.py"))
    untested = []
    for path in _command_paths():
        words = path.split()
        as_args = ", ".join(f'"{word}"' for word in words)
        if as_args not in sources and f"multichat {path}" not in sources:
            untested.append(path)
    assert untested == []


def test_readme_starts_with_the_test_command():
    readme = (ROOT / "README.md").read_text()
    first_block = readme.split("```bash", 1)[1].split("```", 1)[0]
    assert "uv run pytest" in first_block
