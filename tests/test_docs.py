"""Conventions that check themselves: every CLI command is documented and exercised by a test."""

from __future__ import annotations

import ast
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


def _environment_variables_read_by_src() -> set[str]:
    """Each ``MULTICHAT_*`` variable: a string constant naming it, or an ``env_name`` call.

    ``env_name(provider, "TOKEN")`` is the one way to name a provider's own variable; it reads as
    ``MULTICHAT_<NAME>_TOKEN``. Names inside longer text (help examples) are not variables.
    """
    names: set[str] = set()
    for path in (ROOT / "src").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if re.fullmatch(r"MULTICHAT_[A-Z0-9_]+", node.value):
                    names.add(node.value)
            elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "env_name":
                what = node.args[1]
                assert isinstance(what, ast.Constant), ast.unparse(node)
                names.add(f"MULTICHAT_<NAME>_{what.value}")
    return names


def _documented_environment_variables() -> set[str]:
    reference = (ROOT / "docs" / "cli.md").read_text()
    section = reference.partition("\n## Environment variables\n")[2].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    return {
        name
        for row in rows
        for name in re.findall(r"`(MULTICHAT_[A-Z0-9_<>]+)`", row.split(" | ")[0])
    }


def test_every_environment_variable_is_documented():
    read = _environment_variables_read_by_src()
    assert {"MULTICHAT_CONFIG", "MULTICHAT_<NAME>_TOKEN"} <= read
    assert sorted(read - _documented_environment_variables()) == []


def test_every_documented_environment_variable_is_read():
    assert sorted(_documented_environment_variables() - _environment_variables_read_by_src()) == []


def test_nothing_shipped_points_at_a_guide_md_that_does_not_ship():
    # The original provider guide is in neither the repository nor a workspace: its content is
    # docs/provider-guide.md's "A provider written by hand".
    shipped = [ROOT / "README.md", ROOT / "copier.yml"]
    for folder in ("src", "template", "docs"):
        shipped += [path for path in (ROOT / folder).rglob("*") if path.is_file()]
    pointing = [
        str(path.relative_to(ROOT))
        for path in shipped
        if path.suffix != ".pyc" and "GUIDE.md" in path.read_text(errors="replace")
    ]
    assert pointing == []
