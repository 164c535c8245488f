"""``multichat sandbox`` through the installed console script."""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import httpx2
import pytest
from helpers import clean_env, tree_snapshot

from multichat.sandbox import SANDBOX_PASSWORDS, SANDBOX_PERSONAL_TOKENS

MULTICHAT = str(Path(sys.executable).parent / "multichat")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _lines(stream, into: queue.Queue) -> None:
    for line in stream:
        into.put(line)


def test_the_sandbox_command_serves_and_prints_how_to_connect(tmp_path: Path):
    port = _free_port()
    db = tmp_path / "sandbox.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MULTICHAT_")}
    process = subprocess.Popen(
        [
            *(MULTICHAT, "sandbox", "--port", str(port), "--db", str(db), "--token-ttl", "5"),
            *("--device-code-ttl", "30", "--device-interval", "0"),
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=_lines, args=(process.stderr, lines), daemon=True)
    reader.start()
    try:
        printed = []
        while not any("admin token" in line for line in printed):
            printed.append(lines.get(timeout=30))
        text = "".join(printed)
        url = f"http://127.0.0.1:{port}"
        assert f"{url}/oauth/authorize" in text
        assert f"{url}/oauth/token" in text
        assert f"{url}/api/v1" in text
        assert "multichat-sandbox" in text
        assert f"token page:     {url}/settings/tokens" in text
        assert f"device page:    {url}/device" in text
        assert f"{url}/oauth/device_authorization" in text
        assert f"ada / {SANDBOX_PASSWORDS['ada']}" in text
        assert SANDBOX_PERSONAL_TOKENS["ada"] in text
        admin_token = text.split("admin token:", 1)[1].split()[0]

        index = httpx2.get(f"{url}/", timeout=10).json()
        assert index["token_url"] == f"{url}/oauth/token"
        flow = httpx2.post(
            f"{url}/oauth/device_authorization", data={"client_id": "multichat-sandbox"}, timeout=10
        ).json()
        assert (flow["expires_in"], flow["interval"]) == (30, 0)
        faults = httpx2.get(
            f"{url}/admin/faults", headers={"X-Sandbox-Admin": admin_token}, timeout=10
        )
        assert faults.status_code == 200
        assert db.exists()

        taken = subprocess.run(
            [MULTICHAT, "sandbox", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
            check=False,
        )
        assert taken.returncode == 2
        assert taken.stderr.strip().startswith("multichat: error: cannot listen on")
        assert len(taken.stderr.strip().splitlines()) == 1
    finally:
        process.send_signal(signal.SIGINT)
        try:
            code = process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
        finally:
            reader.join(timeout=10)
            assert process.stderr is not None
            process.stderr.close()
    assert code == 130


def _other_programs_database(path: Path) -> None:
    import sqlite3

    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY)")
    conn.close()


@pytest.mark.parametrize(
    ("make", "said"),
    [
        (None, "the folder {folder}/missing does not exist; create it"),
        (lambda path: path.write_text("x\n"), "{path} is not a SQLite database"),
        (_other_programs_database, "{path} is another program's SQLite database (tables: users)"),
        (lambda path: path.mkdir(), "{path} is a folder: give a database file"),
    ],
    ids=["no-folder", "not-sqlite", "another-programs", "a-folder"],
)
def test_a_db_the_sandbox_cannot_use_is_one_line_and_left_as_it_was(
    tmp_path: Path, make: Callable[[Path], object] | None, said: str
):
    path = tmp_path / "missing" / "x.db" if make is None else tmp_path / "f.db"
    if make is not None:
        make(path)
    before = tree_snapshot(tmp_path)

    done = subprocess.run(
        [MULTICHAT, "sandbox", "--port", "0", "--db", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        env=clean_env(),
        stdin=subprocess.DEVNULL,
        check=False,
    )

    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("multichat: error: "), done.stderr
    assert said.format(folder=tmp_path, path=path) in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert tree_snapshot(tmp_path) == before  # not a byte written, no -wal or -shm beside it
