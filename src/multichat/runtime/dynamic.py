"""Dynamic mode: the server lists no provider tools until a client enables a toolset.

A workspace with many platforms costs a model ~600 bytes of context per tool before it does
anything (docs/context.md). In dynamic mode ``tools/list`` starts with two tools of the server's
own (plus any workspace-level tool tagged :data:`ALWAYS_LISTED`): one lists each provider's
toolsets, one enables a toolset for the calling session. Enabling is FastMCP's per-session
visibility, which sends ``notifications/tools/list_changed`` to that session only; another
client's list does not change. What the config does not serve can never be enabled.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastmcp import Context, FastMCP
from fastmcp.exceptions import ToolError
from fastmcp.server.transforms import Visibility
from pydantic import Field

from multichat.runtime.loader import LoadReport
from multichat.runtime.toolsets import TOOLSETS, Toolset, toolset_members

#: The tag of a server tool that dynamic mode keeps listed from the start.
ALWAYS_LISTED = "multichat-always-listed"
LIST_TOOL = "multichat_list_toolsets"
ENABLE_TOOL = "multichat_enable_toolset"


def make_dynamic(server: FastMCP[Any], report: LoadReport) -> None:
    """Hide every provider tool of ``server`` and add the two tools that enable them."""

    async def members(provider: str, toolset: Toolset) -> list[str]:
        loaded = report.providers[provider]
        tools = await loaded.mcp.local_provider.list_tools()
        names = toolset_members(loaded, toolset, (tool.name for tool in tools))
        return [f"{provider}_{name}" for name in names]

    @server.tool(
        name=LIST_TOOL,
        tags={ALWAYS_LISTED},
        annotations={"readOnlyHint": True, "idempotentHint": True},
    )
    async def list_toolsets() -> dict[str, Any]:
        """List each provider's toolsets (read, write, all), their tools, and which are on.

        Call it first; then multichat_enable_toolset for what the task needs. Example: {}.
        """
        # What this session sees now: its enabled rules are applied to the listing.
        visible = {tool.name for tool in await server.list_tools(run_middleware=False)}
        providers: dict[str, Any] = {}
        for name in sorted(report.providers):
            providers[name] = {}
            for toolset in TOOLSETS:
                tools = await members(name, toolset)
                on = bool(tools) and visible.issuperset(tools)
                providers[name][toolset] = {"tools": tools, "enabled": on}
        return {"providers": providers}

    @server.tool(
        name=ENABLE_TOOL,
        tags={ALWAYS_LISTED},
        annotations={"readOnlyHint": False, "destructiveHint": False, "idempotentHint": True},
    )
    async def enable_toolset(
        provider: Annotated[str, Field(description="A provider, as list_toolsets names it.")],
        toolset: Annotated[Toolset, Field(description="read, write or all.")],
        ctx: Context,
    ) -> dict[str, Any]:
        """Make a provider's toolset callable in this session; the tool list then changes.

        Example: {"provider": "slack", "toolset": "read"}.
        """
        if provider not in report.providers:
            known = ", ".join(sorted(report.providers))
            raise ToolError(
                f"no provider {provider!r} here; the providers are: {known}",
                log_level=logging.INFO,  # the model's mistake, said to it: no traceback in logs
            )
        names = await members(provider, toolset)
        if names:
            await ctx.enable_components(names=set(names), components={"tool"})
            visible = {tool.name for tool in await server.list_tools(run_middleware=False)}
            if not visible.issuperset(names):
                # FastMCP keeps the rules per session or per signed-in client: an anonymous
                # HTTP client of the 2026-07-28 protocol has neither.
                raise ToolError(
                    "this connection has no session to keep enabled toolsets in; connect with "
                    "a bearer token, or run without --dynamic",
                    log_level=logging.INFO,
                )
        return {"provider": provider, "toolset": toolset, "enabled_tools": names}

    server.add_transform(Visibility(False, match_all=True, components={"tool"}))
    server.add_transform(Visibility(True, tags={ALWAYS_LISTED}, components={"tool"}))
