"""``multichat run``'s serving path, over stdio with a real MCP client."""

from __future__ import annotations

from pathlib import Path

from fastmcp import Client
from fastmcp.client.transports import StdioTransport
from helpers import MULTICHAT, clean_env

GC_STATE = '''\
"""Reports the garbage collector's state in the serving process."""

import gc

from ..mcp_instance import tool


@tool(read_only=True)
def gc_state() -> dict:
    """Whether the collector runs, and whether start-up's objects were frozen out of it."""
    return {"collecting": gc.isenabled(), "frozen": gc.get_freeze_count() > 0}
'''


async def test_start_up_objects_are_frozen_out_of_the_collector_which_still_runs(
    workspace: Path, add_provider
) -> None:
    folder = add_provider("alpha")
    (folder / "tools" / "gc_state.py").write_text(GC_STATE)

    transport = StdioTransport(command=MULTICHAT, args=["run"], cwd=str(workspace), env=clean_env())
    async with Client(transport, timeout=60) as client:
        result = await client.call_tool("alpha_gc_state", {})

    assert result.structured_content == {"collecting": True, "frozen": True}
