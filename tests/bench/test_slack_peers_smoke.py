"""The Slack peers bench's own parts work, without starting any server (the run is manual:
``uv run python -m bench.slack_peers``)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.slack_peers import LenientSlack, table, tree_cpu_seconds  # noqa: E402

AUTH = {"authorization": "Bearer xoxp-1"}


def test_the_lenient_fake_serves_what_the_description_refuses_and_records_it():
    fake = LenientSlack()

    status, listed = fake.handle(
        "GET", "https://slack.com/api/conversations.list?team_id=T1&limit=5", AUTH, b""
    )
    _, unknown = fake.handle("POST", "https://slack.com/api/client.userBoot", AUTH, b"")
    _, history = fake.handle(
        "GET", "https://slack.com/api/conversations.history?channel=C0GENERAL1&limit=3", AUTH, b""
    )

    assert status == 200
    assert len(listed["channels"]) == 5
    assert "team_id" in fake.refused["conversations.list"]
    assert unknown == {"ok": False, "error": "unknown_method"}
    assert fake.unknown["client.userBoot"] == 1
    assert len(history["messages"]) == 3
    assert "conversations.history" not in fake.refused
    assert json.dumps(history)


def test_the_table_has_a_row_per_server_and_says_when_a_tool_is_missing():
    row = {
        "server": "x",
        "start_median": 0.5,
        "start_low": 0.4,
        "start_high": 0.6,
        "tools": 2,
        "bytes_per_tool": 300.0,
        "bytes_per_tool_without_output_schema": 200.0,
        "calls": {
            "history": {"first": 0.01, "median": 0.002, "low": 0.001, "high": 0.003, "cpu": 0.0015}
        },
        "jobs": {"get_channel_history": "h", "list_users": "~by name"},
    }

    text = table([row])

    assert "| x | 500 ms (400-600) | 2 | 300 (200) |" in text
    assert "2.0 ms (1.0-3.0); CPU 1.5 ms" in text
    assert text.count("no such tool") == 2
    assert text.endswith("| 1 + 1 partly |")


def test_the_floor_row_is_marked_as_no_peer():
    row = {
        "server": "floor",
        "start_median": 0.5,
        "start_low": 0.4,
        "start_high": 0.6,
        "tools": 3,
        "bytes_per_tool": 100.0,
        "bytes_per_tool_without_output_schema": 100.0,
        "calls": {},
        "jobs": {},
    }

    assert table([row]).endswith("| (a floor, not a peer) |")


BUSY_CHILD = """
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "import time\\nend = time.process_time() + 0.4\\n"
    "while time.process_time() < end: pass\\nprint('done', flush=True)\\ntime.sleep(60)"],
    stdout=sys.stdout)
time.sleep(60)
"""


def test_cpu_is_counted_for_a_server_and_the_processes_it_started():
    # korotovsky's npm launcher runs the Go binary as its child: the child's CPU is the server's.
    launcher = subprocess.Popen(
        [sys.executable, "-c", BUSY_CHILD],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own group, so the child is stopped with it
    )
    try:
        assert launcher.stdout is not None
        assert launcher.stdout.readline().strip() == "done"
        time.sleep(0.05)
        assert tree_cpu_seconds(launcher.pid) >= 0.35
    finally:
        os.killpg(launcher.pid, signal.SIGKILL)
        launcher.wait()


async def test_the_floor_serves_its_three_tools_on_multichat_s_stdio_too():
    from fastmcp import Client
    from fastmcp.client.transports import StdioTransport

    transport = StdioTransport(
        command=sys.executable,
        args=["-m", "bench.slack_floor_server", "--multichat-stdio"],
        env={**os.environ, "SLACK_TOKEN": "xoxp-1"},
        cwd=str(ROOT),
    )
    async with Client(transport, timeout=60) as client:
        tools = await client.list_tools()

    assert sorted(tool.name for tool in tools) == [
        "slack_get_channel_history",
        "slack_list_channels",
        "slack_search_messages",
    ]
