"""Helpers of the lifecycle tests: tree snapshots, consistency checks, an older template."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from helpers import tree_snapshot
from ruamel.yaml import YAML

CONFIG = "provider-config.yaml"
TRIO = ("mcp_instance.py", "server_auth.py", "api/auth.py")
PACKAGE_TEMPLATE = Path("template/provider/src/providers/{{ provider_name }}")
#: The blank preset's tool module and API client in the template (their names are conditional).
BLANK_TOOLS = "tools/{% if preset == 'blank' %}provider_info.py{% endif %}.jinja"
BLANK_CLIENT = "api/{% if preset == 'blank' %}client.py{% endif %}.jinja"

#: The previous template revision differs from the current one in these known ways.
OLD_INFO_LINE = "# provider_info of an older multichat: this line is gone in the new template\n"
OLD_COMMENT = "# Every tool needs @tool() (the older template's wording of this comment).\n"
NEW_COMMENT = (
    "# Decorate every tool with @tool(): it registers on `mcp` and in multichat's tool registry.\n"
)
OLD_ONLY_FILES = ("NOTES.md", "tools/legacy.py")


def tree_difference(before: dict[str, str], after: dict[str, str]) -> str:
    """A readable account of how two snapshots differ (empty when they are equal)."""
    lines = [f"+ {path}" for path in sorted(set(after) - set(before))]
    lines += [f"- {path}" for path in sorted(set(before) - set(after))]
    lines += [
        f"~ {path}" for path in sorted(set(before) & set(after)) if before[path] != after[path]
    ]
    return "\n".join(lines)


def assert_same_tree(root: Path, before: dict[str, str], context: object = "") -> None:
    """``root`` holds exactly what ``before`` recorded."""
    after = tree_snapshot(root)
    assert after == before, f"{context}\n{tree_difference(before, after)}"


def comment_lines(text: str) -> list[str]:
    """The comment lines of a YAML file, as written (indentation included)."""
    return [line for line in text.splitlines() if line.lstrip().startswith("#")]


def assert_comments_kept(original: str, updated: str) -> None:
    """Every comment line of ``original`` is in ``updated``, in the same order."""
    remaining = iter(updated.splitlines())
    for line in comment_lines(original):
        assert any(candidate == line for candidate in remaining), (
            f"comment lost or moved: {line!r}\n--- now:\n{updated}"
        )


def configured_providers(root: Path) -> set[str]:
    """The names under ``providers:``; the file must parse and be valid for multichat."""
    from multichat.runtime.config import parse_config

    path = root / CONFIG
    text = path.read_text(encoding="utf-8")
    parse_config(text, path)
    data = YAML(typ="safe").load(text) or {}
    return set(data.get("providers") or {})


def assert_consistent(root: Path) -> set[str]:
    """The tree matches the config: each entry has its package, trio, answers and baseline."""
    names = configured_providers(root)
    packages = root / "src" / "providers"
    folders = {p.name for p in packages.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert folders == names, f"folders {sorted(folders)} vs entries {sorted(names)}"
    tests = root / "tests" / "providers"
    test_folders = {p.name for p in tests.iterdir() if p.is_dir()} if tests.is_dir() else set()
    assert test_folders <= names, f"test folders {sorted(test_folders)} vs {sorted(names)}"
    state = root / ".multichat"
    answers = {p.stem for p in (state / "providers").glob("*.yml")}
    baselines = (
        {p.name for p in (state / "baseline").iterdir()}
        if state.joinpath("baseline").is_dir()
        else set()
    )
    assert answers == names, f"answers {sorted(answers)} vs {sorted(names)}"
    assert baselines == names, f"baselines {sorted(baselines)} vs {sorted(names)}"
    for name in names:
        for file in TRIO:
            assert (packages / name / file).is_file(), f"{name} lacks {file}"
    assert not (state / "journal").exists(), "a journal was left behind"
    leftovers = [p for p in root.rglob("*.tmp")]
    assert not leftovers, f"temporary files left behind: {leftovers}"
    return names


def _replace_once(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{path} no longer holds {old!r}: update the old template"
    path.write_text(text.replace(old, new), encoding="utf-8")


def copy_template(source: Path, dest: Path) -> Path:
    """Copy ``copier.yml`` and ``template/`` (no caches) to ``dest``; returns ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source / "copier.yml", dest / "copier.yml")
    shutil.copytree(
        source / "template",
        dest / "template",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    return dest


def make_old_template(source: Path, dest: Path) -> Path:
    """A previous revision of the template: the current one changed in known ways.

    It has an extra line in ``tools/provider_info.py``, another wording of one comment in
    ``mcp_instance.py``, two files the current template no longer has (``NOTES.md`` and
    ``tools/legacy.py``), and lacks the generated test file the current one adds.
    """
    copy_template(source, dest)
    package = dest / PACKAGE_TEMPLATE
    _replace_once(
        package / BLANK_TOOLS,
        "from typing import Any\n",
        f"{OLD_INFO_LINE}\nfrom typing import Any\n",
    )
    _replace_once(package / "mcp_instance.py.jinja", NEW_COMMENT, OLD_COMMENT)
    (package / "NOTES.md.jinja").write_text(
        "# {{ display_name }}\n\nNotes the older template wrote.\n", encoding="utf-8"
    )
    (package / "tools" / "legacy.py.jinja").write_text(
        '"""Tools of an older multichat; the current template dropped this module."""\n',
        encoding="utf-8",
    )
    tests = dest / "template" / "provider" / "tests" / "providers" / "{{ provider_name }}"
    shutil.rmtree(tests)
    return dest


def one_line(result: subprocess.CompletedProcess[str], code: int) -> str:
    """The command failed with ``code`` and exactly one line on stderr; returns that line."""
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]
