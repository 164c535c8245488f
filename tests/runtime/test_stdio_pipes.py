"""stdio served by the event loop's own pipes where it may own them, by threads elsewhere.

The loop's pipe transports make the client's pipes non-blocking; the tests read that flag
from ``/proc/PID/fdinfo`` (Linux), which shows which way ``multichat run`` took: the loop's
for two pipes of their own, the threads' for a stdout that is also stderr (``2>&1``), whose
flag a non-blocking transport would change under every ``print`` to stderr.
"""

from __future__ import annotations

import json
import os
import pty
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from helpers import INITIALIZE_LINE, MULTICHAT, clean_env, stop_process

from multichat.runtime.stdio_pipes import loop_can_serve

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")

O_NONBLOCK = os.O_NONBLOCK
BIG_TOOL = '''
"""A tool whose answer is far larger than a pipe's 64 KiB buffer."""

from ..mcp_instance import tool


@tool(read_only=True)
def big(size: int) -> str:
    """Answer ``size`` characters."""
    return "x" * size
'''


def test_the_loop_may_serve_a_pipe_or_socket_of_its_own_only(tmp_path: Path):
    read_end, write_end = os.pipe()
    other_read, other_write = os.pipe()
    left, right = socket.socketpair()
    controller, terminal = pty.openpty()
    shared = os.dup(read_end)
    regular = os.open(tmp_path / "file", os.O_CREAT | os.O_WRONLY)
    try:
        assert loop_can_serve(read_end)
        assert loop_can_serve(read_end, other_write, other_read)  # another pipe
        assert not loop_can_serve(write_end, read_end)  # the same pipe: told apart by inode only
        assert loop_can_serve(left.fileno())
        assert not loop_can_serve(read_end, shared)  # the same pipe end twice
        assert not loop_can_serve(terminal)  # a terminal is shared with stderr and others
        assert not loop_can_serve(regular)
    finally:
        for fd in (
            read_end,
            write_end,
            other_read,
            other_write,
            controller,
            terminal,
            shared,
            regular,
        ):
            os.close(fd)
        left.close()
        right.close()


def pipe_flags(pid: int, pipe_end: Any) -> list[int]:
    """The file-status flags of each of ``pid``'s descriptors on the pipe of ``pipe_end``."""
    wanted = f"pipe:[{os.fstat(pipe_end.fileno()).st_ino}]"
    flags = []
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}") != wanted:
                continue
            info = Path(f"/proc/{pid}/fdinfo/{fd}").read_text()
        except OSError:
            continue
        line = next(line for line in info.splitlines() if line.startswith("flags:"))
        flags.append(int(line.split()[1], 8))
    return flags


def serving(workspace: Path, stderr: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [MULTICHAT, "run"],
        cwd=workspace,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=stderr,
        env=clean_env(),
    )


def ask(process: subprocess.Popen[bytes], message: dict[str, Any]) -> dict[str, Any]:
    """Send one request, return its answer (log lines of a shared stderr are skipped)."""
    assert process.stdin is not None
    assert process.stdout is not None
    process.stdin.write((json.dumps(message) + "\n").encode())
    process.stdin.flush()
    while True:
        line = process.stdout.readline()
        assert line, "the server closed stdout"
        if line.startswith(b"{") and b'"id"' in line:
            answer: dict[str, Any] = json.loads(line)
            if answer.get("id") == message.get("id"):
                return answer


def start(process: subprocess.Popen[bytes]) -> None:
    assert process.stdin is not None
    assert "result" in ask(process, json.loads(INITIALIZE_LINE))
    process.stdin.write(b'{"jsonrpc": "2.0", "method": "notifications/initialized"}\n')
    process.stdin.flush()


def call_big(process: subprocess.Popen[bytes], size: int) -> str:
    answer = ask(
        process,
        {
            "jsonrpc": "2.0",
            "id": 7,
            "method": "tools/call",
            "params": {"name": "alpha_big", "arguments": {"size": size}},
        },
    )
    return str(answer["result"]["content"][0]["text"])


def test_two_pipes_of_its_own_are_served_by_the_loop_and_a_big_answer_arrives_whole(
    workspace: Path, add_provider
):
    (add_provider("alpha") / "tools" / "big.py").write_text(BIG_TOOL)
    process = serving(workspace, subprocess.PIPE)
    try:
        start(process)
        assert process.stdin is not None
        assert process.stdout is not None
        stdin_flags = pipe_flags(process.pid, process.stdin)
        stdout_flags = pipe_flags(process.pid, process.stdout)
        assert stdin_flags
        assert all(flags & O_NONBLOCK for flags in stdin_flags)
        assert stdout_flags
        assert all(flags & O_NONBLOCK for flags in stdout_flags)

        size = 3 * 1024 * 1024  # the writer waits for the pipe to drain, many times
        assert call_big(process, size) == "x" * size
        process.stdin.close()
        assert process.wait(timeout=30) == 0
    finally:
        stop_process(process)


def test_a_stdout_that_is_also_stderr_stays_blocking_and_serves(workspace: Path, add_provider):
    (add_provider("alpha") / "tools" / "big.py").write_text(BIG_TOOL)
    process = serving(workspace, subprocess.STDOUT)  # 2>&1: one pipe file for both
    try:
        start(process)
        assert process.stdout is not None
        assert process.stdin is not None
        stdout_flags = pipe_flags(process.pid, process.stdout)
        assert stdout_flags
        assert not any(flags & O_NONBLOCK for flags in stdout_flags)
        stdin_flags = pipe_flags(process.pid, process.stdin)
        assert stdin_flags
        assert all(flags & O_NONBLOCK for flags in stdin_flags)

        size = 256 * 1024
        assert call_big(process, size) == "x" * size
        process.stdin.close()
        assert process.wait(timeout=30) == 0
    finally:
        stop_process(process)
