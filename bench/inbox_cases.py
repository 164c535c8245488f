"""Issue 21: the inbox asks every provider at once, so it costs the slowest one, not the sum."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

from bench import workspaces as ws
from bench.cases import _ratio_result, _SandboxProcess
from bench.harness import Result, alternate

PROVIDERS = ["one", "two", "three"]
SCOPES = ["chat:read", "chat:write", "users:read"]


def _platforms(root: Path) -> list[tuple[_SandboxProcess, dict[str, Any]]]:
    """Three sandboxes in processes of their own (three platforms), each with Ada's token."""
    from multichat.sandbox import create_app, issue_tokens

    started = []
    for name in PROVIDERS:
        database = root / f"{name}.db"
        app = create_app(database)
        tokens = issue_tokens(app.state.db, "multichat-sandbox", "U01", SCOPES)
        started.append((_SandboxProcess(database), tokens))
    return started


def inbox_catch_up(rounds: int) -> list[Result]:
    """``inbox_catch_up`` over 3 providers against the slowest single ``catch_up``, +100 ms."""
    from anyio.from_thread import start_blocking_portal
    from fastmcp import Client

    from multichat.generator.provider import add_provider
    from multichat.generator.workspace import create_workspace
    from multichat.runtime import build_server, load_config

    root = ws.scratch("inbox")
    platforms: list[tuple[_SandboxProcess, dict[str, Any]]] = []
    try:
        platforms = _platforms(root)
        folder = root / "ws"
        create_workspace(folder)
        config = folder / "provider-config.yaml"
        for name, (sandbox, tokens) in zip(PROVIDERS, platforms, strict=True):
            add_provider(
                name, config_path=config, preset="sandbox", data={"platform_url": sandbox.url}
            )
            token = {**tokens, "expires_at": time.time() + 3600}
            (folder / f"src/providers/{name}/token.json").write_text(json.dumps(token))
            sandbox.faults(latency_ms=100)
        server, _ = build_server(load_config(config))

        # One event loop and one client for every round, as a running server has: each
        # provider keeps its connection pool between calls (a fresh loop per round measures
        # 3 x ~14 connections opened at once on this 2-CPU machine, not the inbox).
        with (
            start_blocking_portal() as portal,
            portal.wrap_async_context_manager(Client(server)) as client,
        ):

            async def inbox() -> float:
                started = time.perf_counter()
                result = await client.call_tool("inbox_catch_up", {"per_channel": 3})
                elapsed = time.perf_counter() - started
                answer = result.structured_content
                assert answer["included"] == sorted(PROVIDERS), answer["not_included"]
                return elapsed

            async def single(name: str) -> float:
                started = time.perf_counter()
                result = await client.call_tool(f"{name}_catch_up", {"per_channel": 3})
                elapsed = time.perf_counter() - started
                assert not result.is_error, result
                return elapsed

            def ours() -> float:
                return portal.call(inbox)

            def slowest_single() -> float:
                return max(portal.call(single, name) for name in PROVIDERS)

            a, b, ratios = alternate(ours, slowest_single, rounds, warmup=1)
    finally:
        for sandbox, _ in platforms:
            sandbox.stop()
        shutil.rmtree(root, ignore_errors=True)
    return [
        _ratio_result(
            "inbox_catch_up",
            f"`inbox_catch_up` over {len(PROVIDERS)} sandbox platforms, +100 ms a request "
            "(a running server)",
            a,
            b,
            ratios,
            "the slowest single `catch_up`",
            1.2,
        )
    ]
