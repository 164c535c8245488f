"""``multichat run`` as a person starts it: over HTTP it says its URL and nothing noisier."""

from __future__ import annotations

import re
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import httpx2
from helpers import MULTICHAT, LinePump, clean_env, free_port, stop_process

DEADLINE = 60.0
TOKEN = "a-test-token-of-more-than-16-chars"


def test_http_prints_its_url_once_listening_and_no_info_lines(
    workspace: Path, add_provider: Callable[..., Path]
) -> None:
    add_provider("alpha")
    port = free_port()
    process = subprocess.Popen(
        [MULTICHAT, "run", "--transport", "http", "--port", str(port), "--log-level", "WARNING"],
        cwd=workspace,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_env(MULTICHAT_HTTP_TOKEN=TOKEN),
    )
    try:
        errors = LinePump(process.stderr)
        deadline = time.monotonic() + DEADLINE
        url = f"http://127.0.0.1:{port}/mcp"
        while True:
            line = errors.next_line(deadline)
            assert line is not None, "".join(errors.seen)
            if "serving MCP at" in line:
                break
        assert re.fullmatch(
            rf"multichat: serving MCP at {re.escape(url)} \(.*\); Ctrl-C stops it\n", line
        ), line
        # the line comes once the socket listens: a request right after it is answered
        response = httpx2.get(url, timeout=DEADLINE)
        assert response.status_code == 401
        process.send_signal(signal.SIGINT)
        process.wait(timeout=DEADLINE)
        seen = errors.join(DEADLINE)
    finally:
        stop_process(process)
    assert " INFO " not in seen, seen
    assert "uvicorn" not in seen, seen
    assert [line for line in seen.splitlines() if "serving MCP at" in line] == [line.strip()]
