"""One error style: click's usage errors and ours print the same one line; colour only on a TTY."""

from __future__ import annotations

import os
import pty
import subprocess
from pathlib import Path

import pytest
from helpers import MULTICHAT, clean_env, run_cli

RED = "\x1b[31m"


@pytest.mark.parametrize(
    ("args", "words", "help_of"),
    [
        (("run", "--bogus"), "No such option: --bogus", "multichat run"),
        (("frobnicate",), "No such command 'frobnicate'", "multichat"),
        (("init",), "Missing argument 'DIR'", "multichat init"),
        (("run", "--port", "x"), "Invalid value for '--port'", "multichat run"),
        (("run", "--port", "70000"), "less than or equal to 65535", "multichat run"),
        (("run", "--log-level", "LOUD"), "'LOUD' is not one of DEBUG, INFO", "multichat run"),
        (("run", "-t", "sse"), "'--transport' / '-t': 'sse' is not one of", "multichat run"),
        (("new", "provider", "x", "--preset"), "requires an argument", "multichat new provider"),
    ],
)
def test_usage_errors_are_one_of_our_lines(
    tmp_path: Path, args: tuple[str, ...], words: str, help_of: str
) -> None:
    result = run_cli(*args, cwd=tmp_path)

    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("multichat: error: "), lines[0]
    assert words in lines[0]
    assert lines[0].endswith(f"see `{help_of} --help`"), lines[0]
    assert RED not in result.stderr  # a pipe is not a terminal


def _stderr_on_a_terminal(tmp_path: Path, **env: str) -> str:
    """Run a failing command with stderr on a pseudo-terminal; what it printed there."""
    master, slave = pty.openpty()
    try:
        process = subprocess.run(
            [MULTICHAT, "run", "--bogus"],
            cwd=tmp_path,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=slave,
            env=clean_env(**env),
            timeout=60,
            check=False,
        )
        assert process.returncode == 2
        os.close(slave)
        slave = -1
        output = b""
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the other side is closed and drained
                break
            if not chunk:
                break
            output += chunk
        return output.decode()
    finally:
        os.close(master)
        if slave != -1:
            os.close(slave)


def test_red_on_a_terminal(tmp_path: Path) -> None:
    env = {k: v for k, v in clean_env().items() if k != "NO_COLOR"}
    output = _stderr_on_a_terminal(tmp_path, **{"NO_COLOR": ""} if "NO_COLOR" in env else {})

    assert f"{RED}multichat: error:" in output


def test_no_color_turns_colour_off_on_a_terminal(tmp_path: Path) -> None:
    output = _stderr_on_a_terminal(tmp_path, NO_COLOR="1")

    assert "multichat: error:" in output
    assert "\x1b[" not in output


def test_our_errors_and_click_s_share_the_prefix(tmp_path: Path) -> None:
    ours = run_cli("run", cwd=tmp_path)  # no workspace: a MultichatError
    clicks = run_cli("run", "--bogus", cwd=tmp_path)

    assert (
        ours.stderr.split(" ", 2)[:2]
        == clicks.stderr.split(" ", 2)[:2]
        == [
            "multichat:",
            "error:",
        ]
    )
