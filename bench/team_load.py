"""Loopback load for a team's server (issue 23): K MCP clients on 2 instances against 1.

Two ``multichat run --transport http --stateless`` processes serve one workspace (a sandbox
provider, signed in, the sandbox platform in its own process). K clients, each with its own MCP
session, call ``chat_get_channel_history`` in turn for a bounded number of calls; once all
spread over both instances (round robin, as a proxy would), once all on one. Reported: p50 and
p99 per ``tools/call`` and calls a second, 2 instances against 1. Bounded in count (K x calls)
and time (a deadline per call). On a 2-CPU machine the client processes share the cores with
the servers, so read the ratio, not the absolute figures.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any

from bench import workspaces as ws
from bench.harness import Result, Stats

CLIENTS = 16
CALLS_PER_CLIENT = 15
TOKEN = "bench-team-load-token-0123456789"
DEADLINE = 60.0


def _instance(workspace: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "MULTICHAT_HTTP_TOKEN": TOKEN}
    env.pop("MULTICHAT_CONFIG", None)
    return subprocess.Popen(
        [ws.MULTICHAT, "run", "--transport", "http", "--stateless", "--port", str(port)],
        cwd=workspace,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def _load(urls: list[str], channel: str) -> tuple[list[float], float]:
    """Every client's call times (seconds) and the wall time of the whole load."""
    from fastmcp import Client

    clients = [
        Client(urls[number % len(urls)], auth=TOKEN, timeout=DEADLINE) for number in range(CLIENTS)
    ]
    times: list[float] = []
    arguments = {"channel_id": channel, "limit": 20}

    async def work(client: Any) -> None:
        async with client:
            await client.call_tool("chat_get_channel_history", arguments)  # warm-up
            for _ in range(CALLS_PER_CLIENT):
                started = time.perf_counter()
                await client.call_tool("chat_get_channel_history", arguments)
                times.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(work(client) for client in clients))
    return times, time.perf_counter() - started


def _p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98] if len(values) > 1 else values[0]


def team_load(rounds: int) -> list[Result]:
    """p50/p99 per call and calls a second: K clients on 2 stateless instances vs 1."""
    import httpx2

    from bench.cases import _free_port, _SandboxProcess, _seeded_sandbox, _wait_for

    root = ws.scratch("teamload")
    database, tokens = _seeded_sandbox(root, "load", ["chat:read", "users:read"])
    sandbox = _SandboxProcess(database)
    instances: list[subprocess.Popen[bytes]] = []
    try:
        workspace = ws.workspace(root / "ws", ["chat"], preset="sandbox", platform_url=sandbox.url)
        token_file = workspace / "src/providers/chat/token.json"
        token_file.write_text(json.dumps({**tokens, "expires_at": time.time() + 3600}))
        headers = {"Authorization": f"Bearer {tokens['access_token']}"}
        listed = httpx2.get(
            f"{sandbox.url}/api/v1/channels", params={"limit": 200}, headers=headers
        ).json()["items"]
        channel = next(item["id"] for item in listed if item["name"] == "load")
        ports = [_free_port(), _free_port()]
        instances = [_instance(workspace, port) for port in ports]
        urls = [f"http://127.0.0.1:{port}/mcp" for port in ports]
        for url in urls:
            _wait_for(url, 60)
        p50: dict[int, list[float]] = {1: [], 2: []}
        p99: dict[int, list[float]] = {1: [], 2: []}
        rate: dict[int, list[float]] = {1: [], 2: []}
        for _ in range(max(1, rounds)):
            for count in (2, 1):
                times, wall = asyncio.run(_load(urls[:count], channel))
                p50[count].append(statistics.median(times))
                p99[count].append(_p99(times))
                rate[count].append(len(times) / wall)
    finally:
        for process in instances:
            process.terminate()
            process.wait(timeout=20)
        sandbox.stop()
        shutil.rmtree(root, ignore_errors=True)
    load = f"{CLIENTS} clients x {CALLS_PER_CLIENT} calls"
    rows = (
        ("team_load", f"`tools/call` p50, {load}, on 2 stateless instances", "s", p50),
        ("team_load_p99", f"`tools/call` p99, {load}, on 2 stateless instances", "s", p99),
        ("team_load_rate", f"calls a second, {load}, on 2 stateless instances", "calls/s", rate),
    )
    return [
        Result(
            name,
            measure,
            unit,
            Stats.of(values[2]),
            Stats.of(values[1]),
            "the same load on 1 instance",
            Stats.of([a / b for a, b in zip(values[2], values[1], strict=True)]),
            "report",
        )
        for name, measure, unit, values in rows
    ]
