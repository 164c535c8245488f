"""What ``tools/list`` costs a model: bytes per tool of each chat preset, and per mode (issue 22).

Sizes, not times: each is the compact JSON of the tools as an MCP client receives them (the
``tools`` array of the ``tools/list`` result), measured in one process on a workspace with one
provider of each of the seven platform presets plus the sandbox's.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path
from typing import Any

from bench import workspaces as ws
from bench.harness import Result, Stats

#: Each platform preset, with the answers it cannot do without (any URL: nothing is called).
PRESETS: dict[str, dict[str, object]] = {
    "sandbox": {},
    "slack": {},
    "discord": {},
    "mattermost": {"server_url": "https://chat.example.com"},
    "zulip": {"server_url": "https://chat.example.com"},
    "matrix": {},
    "google_chat": {},
    "teams": {},
}
PER_TOOL_TARGET = 700


def _listed(config_path: Path, *, dynamic: bool = False) -> list[dict[str, Any]]:
    """The tools ``tools/list`` gives a client, as JSON objects."""
    from fastmcp import Client

    from multichat.runtime import build_server, load_config

    server, report = build_server(load_config(config_path), dynamic=dynamic)
    if report.failures:
        raise RuntimeError(f"providers failed to load: {report.failures}")

    async def listing() -> list[dict[str, Any]]:
        async with Client(server) as client:
            result = await client.session.list_tools()
        return [
            tool.model_dump(mode="json", by_alias=True, exclude_none=True) for tool in result.tools
        ]

    return asyncio.run(listing())


def _size(tools: list[dict[str, Any]]) -> int:
    return len(json.dumps(tools, separators=(",", ":")).encode())


def context_budget(rounds: int) -> list[Result]:
    """One row per preset (bytes per tool), then the whole workspace in each mode."""
    from multichat.generator.provider import add_provider
    from multichat.generator.workspace import create_workspace

    del rounds  # sizes do not vary between runs
    root = ws.scratch("context")
    try:
        folder = root / "all"
        create_workspace(folder)
        config = folder / "provider-config.yaml"
        for preset, data in PRESETS.items():
            add_provider(preset, config_path=config, preset=preset, data=dict(data))
        tools = _listed(config)
        results = []
        for preset in PRESETS:
            own = [tool for tool in tools if tool["name"].startswith(f"{preset}_")]
            per_tool = _size(own) / len(own)
            results.append(
                Result(
                    f"context_{preset}",
                    f"tools/list bytes per tool, {preset} preset ({len(own)} tools)",
                    "B",
                    Stats.of([per_tool]),
                    target=f"<= {PER_TOOL_TARGET} B",
                    passed=per_tool <= PER_TOOL_TARGET,
                    note=f"{_size(own)} B for the provider",
                )
            )
        # What `toolsets: [read]` serves: the tools registered read-only (readOnlyHint).
        read_only = [t for t in tools if (t.get("annotations") or {}).get("readOnlyHint")]
        dynamic = _listed(config, dynamic=True)
        whole = _size(tools)
        for name, label, listed in (
            ("context_budget", "every tool", tools),
            ("context_workspace_read", "toolsets: [read] on each", read_only),
            ("context_workspace_dynamic", "--dynamic, before any toolset", dynamic),
        ):
            results.append(
                Result(
                    name,
                    f"tools/list bytes, 7 platforms + sandbox, {label} ({len(listed)} tools)",
                    "B",
                    Stats.of([float(_size(listed))]),
                    target="report",
                    note=(
                        f"{_size(listed) / whole:.0%} of every tool; "
                        f"about {_size(listed) // 4} tokens at 4 B each"
                    ),
                )
            )
        return results
    finally:
        shutil.rmtree(root, ignore_errors=True)
