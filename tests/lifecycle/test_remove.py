"""``multichat remove provider``: undoes ``new provider`` exactly, and never deletes by surprise."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import MULTICHAT, run_cli
from lifecycle_support import (
    CONFIG,
    assert_comments_kept,
    assert_consistent,
    assert_same_tree,
    configured_providers,
    one_line,
    tree_snapshot,
)

DEADLINE = 60.0

COMMENTED_CONFIG = """\
# header comment of mine
providers:
  # alpha goes first
  alpha:
    name: "Alpha"  # inline note
    port: 8000
  # beta is the one we keep
  beta:
    name: "Beta"
    port: 8001
# trailing comment, after the block
extra: 1  # and one on a key of mine
"""


@pytest.mark.parametrize("preset", ["blank", "sandbox"])
def test_new_then_remove_leaves_workspace_byte_identical(
    workspace: Path, add_provider: Callable[..., Path], preset: str
) -> None:
    add_provider("other")
    before = tree_snapshot(workspace)

    created = run_cli("new", "provider", "alpha", "--preset", preset, cwd=workspace)
    assert created.returncode == 0, created.stderr
    package = workspace / "src" / "providers" / "alpha"
    if preset == "sandbox":  # a public client: its id is in the config, no credentials file
        assert not (package / "credentials.json").exists()
    (package / "token.json").write_text('{"access_token": "x"}')
    removed = run_cli("remove", "provider", "alpha", "--yes", cwd=workspace)

    assert removed.returncode == 0, removed.stderr
    assert "Removed provider alpha." in removed.stdout
    assert_same_tree(workspace, before)


def test_unknown_and_invalid_names_exit_2(
    workspace: Path, add_provider: Callable[..., Path]
) -> None:
    add_provider("alpha")
    before = tree_snapshot(workspace)

    unknown = run_cli("remove", "provider", "nosuch", "--yes", cwd=workspace)
    invalid = run_cli("remove", "provider", "Not-Valid", "--yes", cwd=workspace)

    assert "nosuch" in one_line(unknown, 2)
    assert "invalid provider name" in one_line(invalid, 2)
    assert_same_tree(workspace, before)


def test_without_yes_and_no_terminal_removes_nothing(
    workspace: Path, add_provider: Callable[..., Path]
) -> None:
    add_provider("alpha")
    before = tree_snapshot(workspace)

    result = run_cli("remove", "provider", "alpha", cwd=workspace)

    assert result.returncode != 0
    assert "--yes" in one_line(result, result.returncode)
    assert_same_tree(workspace, before)


def test_user_files_inside_the_package_are_refused_then_forced(
    workspace: Path, add_provider: Callable[..., Path]
) -> None:
    package = add_provider("alpha")
    (package / "tools" / "my_tool.py").write_text('"""A tool I wrote."""\n')
    (package / "NOTES.txt").write_text("mine\n")
    before = tree_snapshot(workspace)

    refused = run_cli("remove", "provider", "alpha", "--yes", cwd=workspace)

    line = one_line(refused, 2)
    assert "src/providers/alpha/tools/my_tool.py" in line, line
    assert "src/providers/alpha/NOTES.txt" in line, line
    assert "--force" in line, line
    assert_same_tree(workspace, before)

    forced = run_cli("remove", "provider", "alpha", "--yes", "--force", cwd=workspace)

    assert forced.returncode == 0, forced.stderr
    assert not package.exists()
    assert assert_consistent(workspace) == set()


def test_keep_token_keeps_secrets_and_yes_deletes_them(
    workspace: Path, add_provider: Callable[..., Path]
) -> None:
    for name in ("alpha", "beta"):
        package = add_provider(name)
        (package / "token.json").write_text('{"access_token": "x"}')
        (package / "credentials.json").write_text('{"client_id": "c"}')

    kept = run_cli("remove", "provider", "alpha", "--yes", "--keep-token", cwd=workspace)
    deleted = run_cli("remove", "provider", "beta", "--yes", cwd=workspace)

    assert kept.returncode == 0, kept.stderr
    alpha = workspace / "src" / "providers" / "alpha"
    assert sorted(p.name for p in alpha.rglob("*")) == ["credentials.json", "token.json"]
    assert "kept src/providers/alpha/token.json" in kept.stdout
    assert "kept src/providers/alpha/credentials.json" in kept.stdout
    assert deleted.returncode == 0, deleted.stderr
    assert not (workspace / "src" / "providers" / "beta").exists()
    assert configured_providers(workspace) == set()


def _answer_prompt(args: list[str], cwd: Path, answer: str) -> tuple[int, str]:
    """Run the console script with a terminal as stdin and type ``answer`` at its prompt."""
    master, slave = pty.openpty()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MULTICHAT_")}
    process = subprocess.Popen(
        [MULTICHAT, *args],
        cwd=cwd,
        env=env,
        stdin=slave,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    os.close(slave)
    output = b""
    try:
        deadline = time.monotonic() + DEADLINE
        while b"[y/N]" not in output and process.poll() is None:
            assert time.monotonic() < deadline, output
            if select.select([process.stdout], [], [], 0.1)[0]:
                assert process.stdout is not None
                output += os.read(process.stdout.fileno(), 65536)
        os.write(master, answer.encode() + b"\n")
        rest, _ = process.communicate(timeout=DEADLINE)
        output += rest
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=DEADLINE)
        os.close(master)
    return process.returncode, output.decode()


def test_confirmed_at_the_prompt_keeps_token_and_credentials(
    workspace: Path, add_provider: Callable[..., Path]
) -> None:
    package = add_provider("alpha")
    (package / "token.json").write_text('{"access_token": "x"}')
    (package / "credentials.json").write_text('{"client_id": "c"}')

    code, output = _answer_prompt(["remove", "provider", "alpha"], workspace, "y")

    assert code == 0, output
    assert sorted(p.name for p in package.rglob("*")) == ["credentials.json", "token.json"]
    assert "kept src/providers/alpha/token.json" in output
    assert configured_providers(workspace) == set()


def test_declined_at_the_prompt_removes_nothing(
    workspace: Path, add_provider: Callable[..., Path]
) -> None:
    add_provider("alpha")
    before = tree_snapshot(workspace)

    code, output = _answer_prompt(["remove", "provider", "alpha"], workspace, "n")

    assert code == 1, output
    assert "Nothing was removed." in output
    assert_same_tree(workspace, before)


def test_comments_of_the_config_are_kept(
    workspace: Path, add_provider: Callable[..., Path]
) -> None:
    config = workspace / CONFIG
    config.write_text(COMMENTED_CONFIG)
    add_provider("gamma")
    assert_comments_kept(COMMENTED_CONFIG, config.read_text())

    result = run_cli("remove", "provider", "gamma", "--yes", cwd=workspace)

    assert result.returncode == 0, result.stderr
    assert config.read_text() == COMMENTED_CONFIG

    removed_alpha = run_cli("remove", "provider", "alpha", "--yes", cwd=workspace)

    assert removed_alpha.returncode == 0, removed_alpha.stderr
    text = config.read_text()
    assert configured_providers(workspace) == {"beta"}
    expected = [c for c in COMMENTED_CONFIG.splitlines() if c.lstrip().startswith("#")]
    assert [c for c in text.splitlines() if c.lstrip().startswith("#")] == expected
    assert '    name: "Alpha"  # inline note' not in text
    assert "extra: 1  # and one on a key of mine" in text


@pytest.mark.parametrize("config_option", [(), ("--config", f"ws/{CONFIG}")])
def test_a_symlinked_config_is_edited_through_the_link(
    workspace: Path, tmp_path: Path, config_option: tuple[str, ...]
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    target = shared / "pc.yaml"
    (workspace / CONFIG).rename(target)
    (workspace / CONFIG).symlink_to(os.path.relpath(target, workspace))
    original = target.read_bytes()
    before = tree_snapshot(workspace)
    cwd = tmp_path if config_option else workspace

    created = run_cli("new", "provider", "alpha", "--defaults", *config_option, cwd=cwd)

    assert created.returncode == 0, created.stderr
    assert (workspace / CONFIG).is_symlink()
    assert "  alpha:\n" in target.read_text(encoding="utf-8")
    assert (workspace / "src" / "providers" / "alpha").is_dir()
    assert sorted(p.name for p in shared.iterdir()) == ["pc.yaml"]

    removed = run_cli("remove", "provider", "alpha", "--yes", *config_option, cwd=cwd)

    assert removed.returncode == 0, removed.stderr
    assert (workspace / CONFIG).is_symlink()
    assert target.read_bytes() == original
    assert_same_tree(workspace, before)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(b"# c\r\nproviders:\r\n  x:\r\n    port: 8000\r\n", id="crlf"),
        pytest.param(b"providers:\n  x:\n    port: 8000", id="no-final-newline"),
        pytest.param(
            b"# header\n---\n# my config\nproviders:\n  x:\n    port: 8000  # keep\n...\n",
            id="document-markers",
        ),
    ],
)
def test_new_then_remove_keeps_the_config_layout(workspace: Path, text: bytes) -> None:
    config = workspace / CONFIG
    config.write_bytes(text)

    created = run_cli("new", "provider", "beta", "--defaults", cwd=workspace)

    assert created.returncode == 0, created.stderr
    added = config.read_bytes()
    assert b"  beta:" in added
    assert added.count(b"\r\n") == (added.count(b"\n") if b"\r\n" in text else 0)
    assert added.startswith(text.split(b"providers:")[0] + b"providers:")

    removed = run_cli("remove", "provider", "beta", "--yes", cwd=workspace)

    assert removed.returncode == 0, removed.stderr
    assert config.read_bytes() == text
