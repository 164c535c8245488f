"""A command whose stdout reader has gone (``multichat ... | head -1``) still does its work."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from helpers import MULTICHAT, clean_env

from multichat.runtime import load_config


@contextmanager
def reader_gone() -> Iterator[int]:
    """The write end of a real pipe whose read end is closed already: as ``| head -1``
    is once ``head`` has exited, every write to it fails with EPIPE."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        yield write_end
    finally:
        os.close(write_end)


def run_into(stdout: int, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [MULTICHAT, *args],
        cwd=cwd,
        stdout=stdout,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        timeout=240,
        env=clean_env(),
        check=False,
    )


def package_files(workspace: Path, name: str) -> list[str]:
    """The files of provider ``name`` (and its tests), with its name written NAME."""
    return sorted(
        str(path.relative_to(workspace)).replace(name, "NAME")
        for path in workspace.rglob("*")
        if path.is_file() and name in str(path.relative_to(workspace))
    )


def test_new_provider_into_a_closed_pipe_is_made_whole_and_exits_0(workspace: Path) -> None:
    with reader_gone() as stdout:
        done = run_into(stdout, "new", "provider", "alpha", cwd=workspace)
    reference = run_into(subprocess.DEVNULL, "new", "provider", "beta", cwd=workspace)

    assert (done.returncode, done.stderr) == (0, "")
    assert reference.returncode == 0, reference.stderr
    assert package_files(workspace, "alpha") == package_files(workspace, "beta")
    assert package_files(workspace, "alpha")  # the comparison compared something
    config = load_config(workspace / "provider-config.yaml")
    assert {"alpha", "beta"} <= set(config.providers)


@pytest.mark.parametrize("flag", ["--version", "--help"])
def test_version_and_help_into_a_closed_pipe_exit_0_quietly(flag: str, tmp_path: Path) -> None:
    with reader_gone() as stdout:
        done = run_into(stdout, flag, cwd=tmp_path)

    assert (done.returncode, done.stderr) == (0, "")


@pytest.mark.parametrize(("flag", "unbuffered"), [("-u", True), ("-c", False)])
def test_python_dash_u_keeps_stdout_unbuffered(flag: str, unbuffered: bool) -> None:
    """Under `python -u` each write reaches the pipe at once; the wrapper must not buffer it."""
    import sys

    probe = (
        "import io, sys\n"
        "from multichat.cli.closed_stdout import drop_output_once_its_reader_is_gone\n"
        "drop_output_once_its_reader_is_gone()\n"
        "print(isinstance(sys.stdout.buffer, io.RawIOBase), file=sys.stderr)\n"
    )
    args = [sys.executable, "-u", "-c", probe] if flag == "-u" else [sys.executable, "-c", probe]
    env = {key: value for key, value in clean_env().items() if key != "PYTHONUNBUFFERED"}
    answer = subprocess.run(args, capture_output=True, text=True, timeout=60, env=env, check=True)
    assert answer.stderr.strip() == str(unbuffered)
