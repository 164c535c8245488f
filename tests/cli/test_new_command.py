"""``multichat new provider`` on a terminal: a spinner for the wait, and nothing without one."""

from __future__ import annotations

import os
import pty
import subprocess
import threading
from pathlib import Path

from helpers import MULTICHAT, clean_env, run_cli

MESSAGE = "Rendering and checking provider alpha"


def _stderr_on_a_terminal(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[int, str]:
    """Run with stderr on a pseudo-terminal (stdin and stdout not): exit code and stderr."""
    master, slave = pty.openpty()
    chunks: list[bytes] = []

    def read() -> None:
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO once the child side is closed
                return
            if not chunk:
                return
            chunks.append(chunk)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        process = subprocess.run(
            [MULTICHAT, *args],
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=slave,
            env=env,
            timeout=240,
            check=False,
        )
    finally:
        os.close(slave)
    reader.join(timeout=30)
    os.close(master)
    return process.returncode, b"".join(chunks).decode("utf-8", "replace")


def test_a_long_wait_shows_a_spinner_on_a_terminal(workspace: Path) -> None:
    # no import-check cache: the check imports FastMCP in a child process, well over 0.5 s
    env = clean_env(MULTICHAT_CACHE_DIR="")

    code, stderr = _stderr_on_a_terminal(["new", "provider", "alpha"], workspace, env)

    assert code == 0, stderr
    assert MESSAGE in stderr
    assert (workspace / "src" / "providers" / "alpha" / "mcp_instance.py").is_file()


def test_no_spinner_when_stderr_is_not_a_terminal(workspace: Path) -> None:
    result = run_cli("new", "provider", "alpha", cwd=workspace, env={"MULTICHAT_CACHE_DIR": ""})

    assert result.returncode == 0, result.stderr
    assert MESSAGE not in result.stderr
    assert "\x1b[" not in result.stderr


def test_an_interactive_run_shows_a_spinner_for_the_checks_after_the_questions(
    workspace: Path,
) -> None:
    """stdin, stdout and stderr on one terminal: Copier asks, Enter takes each default."""
    import select
    import time

    master, slave = pty.openpty()
    process = subprocess.Popen(
        [MULTICHAT, "new", "provider", "alpha"],
        cwd=workspace,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=clean_env(MULTICHAT_CACHE_DIR="", TERM="xterm"),
    )
    os.close(slave)
    seen = b""
    deadline = time.monotonic() + 240
    try:
        while process.poll() is None and time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.7)
            if ready:
                try:
                    seen += os.read(master, 65536)
                except OSError:
                    break
            elif b"Checking provider" not in seen:
                os.write(master, b"\r")  # a question waits: take its default
        while True:  # what is left once the command ended
            ready, _, _ = select.select([master], [], [], 0.2)
            if not ready:
                break
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)
        os.close(master)
    text = seen.decode("utf-8", "replace")

    assert process.returncode == 0, text[-2000:]
    assert "Checking provider alpha" in text
    assert MESSAGE not in text  # no spinner while Copier asks
    assert (workspace / "src" / "providers" / "alpha" / "mcp_instance.py").is_file()
