"""``new provider`` on an existing name (refused, or replaced with ``--force``) and the lock."""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import MULTICHAT, run_cli
from lifecycle_support import (
    CONFIG,
    TRIO,
    assert_comments_kept,
    assert_consistent,
    assert_same_tree,
    configured_providers,
    one_line,
    tree_snapshot,
)

DEADLINE = 120.0

USER_CONFIG = """\
# My team's MCP providers. Edited by hand; keep these notes.
#   - ports from 8000 up
#   - one entry per platform
debug_banner: true  # a key of my own, after a comment

providers:
  # the platform we had first
  legacy:
    name: "Legacy"  # the display name
    # no OAuth: a token pasted by hand
    scopes:
      - read
  # more come below, added by multichat

# footer: reviewed by the platform team
"""


def test_existing_name_without_force_is_refused(
    workspace: Path, add_provider: Callable[..., Path]
) -> None:
    add_provider("alpha")
    before = tree_snapshot(workspace)

    result = run_cli("new", "provider", "alpha", cwd=workspace)

    line = one_line(result, 2)
    assert "alpha" in line, line
    assert "--force" in line, line
    assert_same_tree(workspace, before)


@pytest.mark.parametrize("preset", ["blank", "sandbox"])
def test_force_shows_what_it_replaces_then_regenerates(
    workspace: Path, add_provider: Callable[..., Path], preset: str
) -> None:
    from multichat.generator.provider import add_provider as generate

    generate("alpha", config_path=workspace / CONFIG, preset=preset)
    package = workspace / "src" / "providers" / "alpha"
    add_provider("beta")
    pristine = {p: (package / p).read_bytes() for p in ("mcp_instance.py", "api/auth.py")}
    (package / "mcp_instance.py").write_text(
        (package / "mcp_instance.py").read_text() + "# my edit, to be replaced\n"
    )
    (package / "api" / "auth.py").unlink()
    (package / "notes.txt").write_text("a file of mine inside the package\n")
    (package / "token.json").write_text('{"access_token": "tok-secret-value"}')
    (package / "credentials.json").write_text('{"client_id": "mine", "client_secret": "sh-h"}')
    (package / "credentials.json").chmod(0o600)
    config_before = (workspace / CONFIG).read_text()
    beta_before = {p: v for p, v in tree_snapshot(workspace).items() if "beta" in p}

    result = run_cli("new", "provider", "alpha", "--preset", preset, "--force", cwd=workspace)

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "keep    src/providers/alpha/notes.txt  (you added it)" in lines, result.stdout
    assert "modify  src/providers/alpha/mcp_instance.py" in lines, result.stdout
    assert "create  src/providers/alpha/api/auth.py" in lines, result.stdout
    assert "-# my edit, to be replaced" in lines, result.stdout
    secrets = [
        line
        for line in lines
        if re.search(r"^(create|modify|delete) .*(token|credentials)\.json$", line)
    ]
    assert not secrets, result.stdout
    assert "tok-secret-value" not in result.stdout
    assert "sh-h" not in result.stdout
    # regenerated: the user's edits of generated files are gone; their own files and the
    # secrets stay
    for relative, content in pristine.items():
        assert (package / relative).read_bytes() == content, relative
    assert (package / "notes.txt").read_text() == "a file of mine inside the package\n"
    assert (package / "token.json").read_text() == '{"access_token": "tok-secret-value"}'
    assert "sh-h" in (package / "credentials.json").read_text()
    # the entry is kept as the user has it: only the code is regenerated
    config_after = (workspace / CONFIG).read_text()
    assert config_after == config_before
    assert {p: v for p, v in tree_snapshot(workspace).items() if "beta" in p} == beta_before
    assert assert_consistent(workspace) == {"alpha", "beta"}


def test_three_processes_at_once_all_succeed_and_keep_every_comment(workspace: Path) -> None:
    from multichat.generator.changes import lock_path

    (workspace / CONFIG).write_text(USER_CONFIG)
    lock = lock_path(workspace)
    lock.unlink(missing_ok=True)  # left by an earlier run over the same temporary path
    env = {k: v for k, v in os.environ.items() if not k.startswith("MULTICHAT_")}
    names = ("one", "two", "three")
    processes = [
        subprocess.Popen(
            [MULTICHAT, "new", "provider", name],
            cwd=workspace,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in names
    ]
    try:
        results = [process.communicate(timeout=DEADLINE) for process in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=DEADLINE)

    for name, process, (_, stderr) in zip(names, processes, results, strict=True):
        assert process.returncode == 0, (name, stderr)
    text = (workspace / CONFIG).read_text()
    assert_comments_kept(USER_CONFIG, text)
    assert "debug_banner: true  # a key of my own, after a comment" in text
    assert configured_providers(workspace) == {"legacy", *names}
    for name in names:
        for file in TRIO:
            assert (workspace / "src" / "providers" / name / file).is_file(), (name, file)
    ports = sorted(int(p) for p in re.findall(r"^    port: (\d+)$", text, re.MULTILINE))
    assert ports == [8000, 8001, 8002]
    assert lock.is_file()  # the commands locked here: outside the workspace
    assert not lock.resolve().is_relative_to(workspace.resolve())
    assert not [p for p in workspace.rglob("*") if "lock" in p.name.lower()]


def _answers(workspace: Path) -> dict[str, object]:
    from ruamel.yaml import YAML

    return YAML(typ="safe").load((workspace / ".multichat" / "providers" / "chat.yml").read_text())


def test_force_keeps_the_users_files_and_answers_as_rails_generate_force_does(
    workspace: Path,
) -> None:
    """Generated files are overwritten; the user's files and earlier answers are not lost."""
    from multichat.generator.provider import add_provider as generate

    data = {"platform_url": "http://127.0.0.1:9999", "port": "8123", "display_name": "Team"}
    generate("chat", config_path=workspace / CONFIG, preset="sandbox", data=data)
    package = workspace / "src" / "providers" / "chat"
    baseline = workspace / ".multichat" / "baseline" / "chat" / "src" / "providers" / "chat"
    (package / "NOTES.md").write_text("my notes\n")
    # Two files an older template wrote that the installed one no longer does: one as it was
    # generated (it goes), one the user edited since (it stays).
    for folder in (package, baseline):
        (folder / "tools" / "retired.py").write_text('"""A tool the template dropped."""\n')
        (folder / "tools" / "edited.py").write_text('"""Another."""\n')
    (package / "tools" / "edited.py").write_text('"""Another, edited by me."""\n')
    (package / "mcp_instance.py").write_text("# broken by hand\n")

    forced = run_cli("new", "provider", "chat", "--preset", "sandbox", "--force", cwd=workspace)

    assert forced.returncode == 0, forced.stderr
    lines = forced.stdout.splitlines()
    assert "keep    src/providers/chat/NOTES.md  (you added it)" in lines, forced.stdout
    assert "keep    src/providers/chat/tools/edited.py  (you changed it)" in lines
    assert "delete  src/providers/chat/tools/retired.py" in lines
    assert (package / "NOTES.md").read_text() == "my notes\n"
    assert (package / "tools" / "edited.py").read_text() == '"""Another, edited by me."""\n'
    assert not (package / "tools" / "retired.py").exists()
    assert (package / "mcp_instance.py").read_text() != "# broken by hand\n"  # regenerated
    answers = _answers(workspace)
    assert (answers["platform_url"], answers["port"], answers["display_name"]) == (
        "http://127.0.0.1:9999",
        8123,
        "Team",
    )
    assert "http://127.0.0.1:9999/oauth/token" in (workspace / CONFIG).read_text()

    # An answer given again wins; the others stay.
    again = run_cli(
        "new", "provider", "chat", "--preset", "sandbox", "--force", "--data", "port=8124",
        cwd=workspace,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    answers = _answers(workspace)
    assert (answers["platform_url"], answers["port"]) == ("http://127.0.0.1:9999", 8124)

    planned = run_cli(
        "new", "provider", "chat", "--preset", "sandbox", "--force", "--dry-run", "--json",
        cwd=workspace,
    )  # fmt: skip
    assert planned.returncode == 0, planned.stderr
    assert json.loads(planned.stdout)["kept"] == [
        {"path": "src/providers/chat/NOTES.md", "reason": "added"},
        # the baseline is the new render's now, which has no edited.py: it is simply yours
        {"path": "src/providers/chat/tools/edited.py", "reason": "added"},
    ]

    # Another preset: its own defaults, but the port and display name the user chose.
    blank = run_cli("new", "provider", "chat", "--preset", "blank", "--force", cwd=workspace)
    assert blank.returncode == 0, blank.stderr
    answers = _answers(workspace)
    assert "platform_url" not in answers
    assert (answers["preset"], answers["port"], answers["display_name"]) == ("blank", 8124, "Team")
    assert answers["scopes"] == []
    assert (package / "NOTES.md").read_text() == "my notes\n"
    assert assert_consistent(workspace) == {"chat"}
