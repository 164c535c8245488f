"""The stack-cost bench's own parts: its canned page, its Python servers, its table (the run
with the Node row is manual: ``uv run python -m bench.stdio_frameworks``)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.stdio_frameworks import canned_page, measure, servers, table  # noqa: E402


def test_the_python_servers_answer_the_canned_page_and_their_cpu_is_counted(
    tmp_path: Path,
) -> None:
    canned = canned_page(tmp_path)
    page = json.loads(canned.read_text())
    assert len(page["messages"]) == 20

    chosen = [server for server in servers(tmp_path, canned) if "Node" not in server.name]
    assert [server.name for server in chosen] == [
        "FastMCP (asyncio)",
        "FastMCP (uvloop)",
        "FastMCP on multichat's stdio (asyncio)",
        "FastMCP on multichat's stdio (uvloop)",
        "MCP Python SDK (asyncio)",
        "MCP Python SDK (uvloop)",
    ]
    picked = [chosen[0], chosen[3], chosen[5]]
    rows = measure(picked, rounds=1, calls=40)  # CPU is counted in 10 ms ticks

    assert [row["server"] for row in rows] == [
        "FastMCP (asyncio)",
        "FastMCP on multichat's stdio (uvloop)",
        "MCP Python SDK (uvloop)",
    ]
    assert all(row["median"] > 0 and row["cpu"] > 0 for row in rows)
    assert {row["answer_characters"] for row in rows} == {len(canned.read_text())}


def test_the_table_puts_each_row_beside_the_fastest() -> None:
    rows = [
        {"server": "slow", "median": 0.002, "cpu": 0.0015},
        {"server": "fast", "median": 0.0005, "cpu": 0.0005},
    ]

    text = table(rows)

    assert "| slow | 2.00 ms | 1.50 ms | 3.0x |" in text
    assert "| fast | 0.50 ms | 0.50 ms | 1.0x |" in text
