"""Failure injection (a failing template, SIGKILL, a failing write): never a half-written tree."""

from __future__ import annotations

import contextlib
import errno
import os
import random
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from helpers import MULTICHAT, run_cli
from lifecycle_support import (
    CONFIG,
    PACKAGE_TEMPLATE,
    assert_consistent,
    assert_same_tree,
    copy_template,
    one_line,
    tree_difference,
    tree_snapshot,
)

from multichat.generator import changes as changes_module
from multichat.generator.changes import ChangeSet, recover

DEADLINE = 60.0


def _env(template: Path | None = None, tmp: Path | None = None) -> dict[str, str]:
    env = {}
    if template is not None:
        env["MULTICHAT_TEMPLATE"] = str(template)
    if tmp is not None:
        env["TMPDIR"] = str(tmp)
    return env


# ---- (a) and (b): templates that fail -------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "args", "message"),
    [
        pytest.param(
            '"""Rendered after the others."""\nVALUE = "{{ raise_here() }}"\n',
            ("gamma",),
            "raise_here",
            id="undefined-call-new-name",
        ),
        pytest.param(
            'VALUE = "{{ provider_name | no_such_filter }}"\n',
            ("alpha", "--force"),
            "no_such_filter",
            id="undefined-filter-force-existing",
        ),
    ],
)
def test_template_failing_mid_render_leaves_workspace_identical(
    workspace: Path,
    add_provider: Callable[..., Path],
    current_template: Path,
    tmp_path: Path,
    body: str,
    args: tuple[str, ...],
    message: str,
) -> None:
    broken = copy_template(current_template, tmp_path / "broken")
    (broken / PACKAGE_TEMPLATE / "tools" / "zz_late.py.jinja").write_text(body)
    add_provider("alpha")
    (workspace / "src/providers/alpha/token.json").write_text("{}")
    before = tree_snapshot(workspace)

    result = run_cli("new", "provider", *args, cwd=workspace, env=_env(broken))

    line = one_line(result, 1)
    assert "template" in line, line
    assert message in line, line
    assert_same_tree(workspace, before)


def test_template_breaking_the_contract_is_refused(
    workspace: Path, add_provider: Callable[..., Path], current_template: Path, tmp_path: Path
) -> None:
    broken = copy_template(current_template, tmp_path / "no-tool")
    instance = broken / PACKAGE_TEMPLATE / "mcp_instance.py.jinja"
    text = instance.read_text()
    assert "tool = tool_decorator_factory(PROVIDER_NAME, mcp)\n" in text
    instance.write_text(text.replace("tool = tool_decorator_factory(PROVIDER_NAME, mcp)\n", ""))
    add_provider("alpha")
    before = tree_snapshot(workspace)

    result = run_cli("new", "provider", "gamma", cwd=workspace, env=_env(broken))

    line = one_line(result, 1)
    assert "src/providers/gamma/mcp_instance.py" in line, line
    assert "lacks tool" in line, line
    assert_same_tree(workspace, before)


# ---- (c): SIGKILL during `multichat new provider` ------------------------------------------


def _kill_once(
    workspace: Path, env: dict[str, str], moment: tuple[str, float]
) -> tuple[bool, int | None]:
    """Start ``new provider kappa``, SIGKILL it at ``moment``; returns (journal left, exit)."""
    mode, delay = moment
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("MULTICHAT_")}
    full_env.update(env)
    process = subprocess.Popen(
        [MULTICHAT, "new", "provider", "kappa"],
        cwd=workspace,
        env=full_env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        if mode == "after-start":
            time.sleep(delay)
        else:  # shortly after the journal appears: while the files are being moved in
            journal = workspace / ".multichat" / "journal"
            deadline = time.monotonic() + DEADLINE
            while not journal.exists() and process.poll() is None:
                assert time.monotonic() < deadline, "the journal never appeared"
                time.sleep(0.0005)
            time.sleep(delay)
    finally:
        process.kill()  # SIGKILL; nothing happens if it has finished already
        code = process.wait(timeout=DEADLINE)
    return (workspace / ".multichat" / "journal").exists(), code


def test_sigkill_during_new_provider_leaves_before_or_complete(
    workspace: Path, tmp_path: Path
) -> None:
    scratch = tmp_path / "tmp"  # Copier's scratch folders of killed runs land here
    scratch.mkdir()
    pristine = tmp_path / "pristine"
    shutil.copytree(workspace, pristine)
    before = tree_snapshot(pristine)
    complete_ws = tmp_path / "complete"
    shutil.copytree(workspace, complete_ws)
    started = time.monotonic()
    result = run_cli("new", "provider", "kappa", cwd=complete_ws, env=_env(tmp=scratch))
    full_run = time.monotonic() - started  # spreads the kills over a whole run, never asserted
    assert result.returncode == 0, result.stderr
    complete = tree_snapshot(complete_ws)
    assert complete != before

    rng = random.Random(20240605)
    moments = []
    for number in range(20):
        if number % 4 in (1, 2):
            moments.append(("after-journal", rng.uniform(0.0, 0.08)))
        else:
            moments.append(("after-start", rng.uniform(0.0, max(1.5, full_run * 1.2))))

    def lane(index: int) -> None:
        lane_ws = tmp_path / f"lane{index}"
        for number, moment in enumerate(moments[index::2]):
            shutil.rmtree(lane_ws, ignore_errors=True)
            shutil.copytree(pristine, lane_ws)
            journal_left, code = _kill_once(lane_ws, _env(tmp=scratch), moment)
            if journal_left and number % 2:
                # the next command that writes rolls the half-done change back first
                result = run_cli(
                    "new", "provider", "other", "--dry-run", cwd=lane_ws, env=_env(tmp=scratch)
                )
                assert result.returncode == 0, result.stderr
            else:
                recover(lane_ws)
            state = tree_snapshot(lane_ws)
            where = f"lane {index}, kill {moment}, exit {code}, journal left {journal_left}"
            assert state in (before, complete), (
                f"{where}\nvs before:\n{tree_difference(before, state)}"
                f"\nvs complete:\n{tree_difference(complete, state)}"
            )
            names = assert_consistent(lane_ws)
            assert names == ({"kappa"} if state == complete else set()), where

    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(lane, range(2)))  # re-raises a lane's failure


# ---- (d): a write that fails half-way, in-process ------------------------------------------


def _sample_tree(root: Path) -> ChangeSet:
    """A tree and a change set over it: modify, delete, create in new folders, config last."""
    root.mkdir()
    (root / "keep.txt").write_text("keep, as it was\n")
    (root / "secret.json").write_text('{"token": "old"}')
    (root / "secret.json").chmod(0o600)
    (root / "gone").mkdir()
    (root / "gone" / "gone.txt").write_text("deleted by the change\n")
    (root / CONFIG).write_text("# comment\nproviders:\n")
    changes = ChangeSet(root)
    changes.write(Path("keep.txt"), b"keep, changed\n")
    changes.write(Path("secret.json"), b'{"token": "new"}')
    changes.delete(Path("gone/gone.txt"))
    changes.create(Path("new/deep/file.txt"), b"created\n")
    changes.create(Path("new/other.txt"), b"created too\n")
    changes.create(Path("top.txt"), b"top\n", 0o600)
    changes.write(Path(CONFIG), b"# comment\nproviders:\n  x: {}\n")
    return changes


@pytest.mark.parametrize("failure", [OSError, KeyboardInterrupt])
def test_failing_write_rolls_every_file_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failure: type[BaseException]
) -> None:
    real_replace = os.replace
    attempts = 0
    for fail_at in range(1, 50):
        root = tmp_path / f"case{fail_at}"
        changes = _sample_tree(root)
        before = tree_snapshot(root)
        calls = 0

        def replace(source: str, target: str, fail_at: int = fail_at) -> None:
            nonlocal calls
            calls += 1
            if calls == fail_at:
                if failure is OSError:
                    raise OSError(errno.ENOSPC, "No space left on device")
                raise failure()
            real_replace(source, target)

        monkeypatch.setattr(changes_module.os, "replace", replace)
        try:
            changes.apply()
        except failure:
            attempts += 1
            assert_same_tree(root, before, f"failure at os.replace call {fail_at}")
            continue
        finally:
            monkeypatch.setattr(changes_module.os, "replace", real_replace)
        # no failure any more: every call succeeded and the change is complete
        assert (root / "new/deep/file.txt").read_bytes() == b"created\n"
        assert not (root / "gone").exists()
        assert not (root / ".multichat").exists()
        break
    assert attempts >= len(changes.changes), attempts


def test_failing_folder_creation_rolls_back_the_folders_made_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "root"
    changes = _sample_tree(root)
    before = tree_snapshot(root)
    real_mkdir = Path.mkdir

    def mkdir(self: Path, mode: int = 0o777, parents: bool = False, exist_ok: bool = False) -> None:
        if self == root / "new" / "deep":
            raise OSError(errno.ENOSPC, "No space left on device")
        real_mkdir(self, mode, parents, exist_ok)

    monkeypatch.setattr(Path, "mkdir", mkdir)
    with pytest.raises(OSError, match="No space"):
        changes.apply()
    monkeypatch.setattr(Path, "mkdir", real_mkdir)
    assert_same_tree(root, before)


_KILL_CHILD = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from multichat.generator import changes as module

    fail_at = int(sys.argv[2])
    calls = 0
    real_replace = os.replace

    def replace(source, target):
        global calls
        calls += 1
        if calls == fail_at:
            os.kill(os.getpid(), signal.SIGKILL)
        real_replace(source, target)

    module.os.replace = replace
    changes = module.ChangeSet(Path(sys.argv[1]))
    changes.write(Path("keep.txt"), b"keep, changed\\n")
    changes.delete(Path("gone/gone.txt"))
    changes.create(Path("new/deep/file.txt"), b"created\\n")
    changes.create(Path("new/other.txt"), b"created too\\n")
    changes.write(Path("provider-config.yaml"), b"providers:\\n  x: {}\\n")
    changes.apply()
    """
)


def test_sigkill_at_every_rename_is_rolled_back_by_recover(tmp_path: Path) -> None:
    """A kill at each ``os.replace`` (data files and the journal's own index) is undone."""
    child = tmp_path / "kill_child.py"
    child.write_text(_KILL_CHILD)
    killed = 0
    for fail_at in range(1, 50):
        root = tmp_path / f"case{fail_at}"
        _sample_tree(root)
        before = tree_snapshot(root)
        result = subprocess.run(
            [sys.executable, str(child), str(root), str(fail_at)],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=DEADLINE,
            check=False,
        )
        if result.returncode == 0:
            break
        assert result.returncode == -signal.SIGKILL, result.stderr
        killed += 1
        assert recover(root) is True or fail_at == 1
        assert_same_tree(root, before, f"SIGKILL at os.replace call {fail_at}")
    assert killed >= 5, killed


# ---- (e): Ctrl-C during `multichat new provider` -------------------------------------------


def test_ctrl_c_during_new_provider_says_so_and_leaves_before_or_complete(
    workspace: Path, tmp_path: Path
) -> None:
    """Ctrl-C (SIGINT to the whole group, as a terminal sends it) at spread-out moments.

    Each run starts with an empty verdict cache, so the import check's child process runs too;
    whatever the moment, the workspace is as before or complete, and an interrupted run says so.
    """
    pristine = tmp_path / "pristine"
    shutil.copytree(workspace, pristine)
    before = tree_snapshot(pristine)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MULTICHAT_")}
    started = time.monotonic()
    finished = run_cli("new", "provider", "kappa", cwd=workspace, env={
        "MULTICHAT_CACHE_DIR": str(tmp_path / "cache-full")})  # fmt: skip
    full_run = time.monotonic() - started  # spreads the moments over a run, never asserted
    assert finished.returncode == 0, finished.stderr
    complete = tree_snapshot(workspace)

    interrupted = 0
    said: set[str] = set()
    for number, fraction in enumerate((0.15, 0.35, 0.55, 0.75, 0.9)):
        target = tmp_path / f"ws{number}"
        shutil.copytree(pristine, target)
        process = subprocess.Popen(
            [MULTICHAT, "new", "provider", "kappa"],
            cwd=target,
            env={**env, "MULTICHAT_CACHE_DIR": str(tmp_path / f"cache{number}")},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        time.sleep(full_run * fraction)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGINT)
        _, stderr = process.communicate(timeout=DEADLINE)
        state = tree_snapshot(target)
        where = f"Ctrl-C at {fraction:.0%} of a run, exit {process.returncode}: {stderr!r}"
        if process.returncode == 0:
            assert state == complete, where
            continue
        interrupted += 1
        assert process.returncode == 130, where
        # Before the command has started (Python still importing) there is nothing to undo.
        assert stderr.strip() in (
            "multichat: interrupted; nothing was written",
            "multichat: interrupted",
        ), where
        said.add(stderr.strip())
        assert state == before, f"{where}\n{tree_difference(before, state)}"
        # The group empties: no import probe (nor a git of Copier's) is left behind. A child
        # that got the same SIGINT may need a moment to finish dying after its parent.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.killpg(process.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        else:
            pytest.fail(f"{where}: a process of the command's group is still running")
    assert interrupted, "no run was interrupted: the moments came too late"
    assert "multichat: interrupted; nothing was written" in said, said
