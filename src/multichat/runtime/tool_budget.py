"""What a provider's tools cost a model: how many are served and their bytes in ``tools/list``.

The bytes are the compact JSON of each served tool as an MCP client receives it (namespaced
name, title, description, schemas, annotations, ``_meta``; through the server's own listing
middleware), the figure docs/context.md uses.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import anyio

from multichat.runtime.dereference import DereferenceOnce
from multichat.runtime.lean_listing import LeanListing
from multichat.runtime.loader import LoadedProvider
from multichat.runtime.toolsets import served_tools


@dataclass(frozen=True)
class ToolBudget:
    """How many tools a provider serves and the bytes they add to ``tools/list``."""

    tools: int
    size: int

    @property
    def tokens(self) -> int:
        """A rough count of model tokens: 4 bytes each, as docs/context.md reckons."""
        return self.size // 4


def tool_budget(provider: LoadedProvider) -> ToolBudget:
    """The served tools of ``provider`` (after ``read_only``, ``enabled_tools``, ``toolsets``)."""
    lean, inlined = LeanListing(), DereferenceOnce()

    async def listed() -> list[str]:
        served = served_tools(provider)
        tools = await provider.mcp.local_provider.list_tools()
        return [
            json.dumps(
                inlined.listed(lean.listed(tool))
                .to_mcp_tool(name=f"{provider.name}_{tool.name}")
                .model_dump(mode="json", by_alias=True, exclude_none=True),
                separators=(",", ":"),
            )
            for tool in tools
            if served.allows(tool.name)
        ]

    shown = anyio.run(listed)
    # The tools array: one comma between two tools, and its brackets.
    size = sum(len(text.encode()) for text in shown) + max(len(shown) - 1, 0) + 2
    return ToolBudget(len(shown), size)
