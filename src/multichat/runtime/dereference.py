"""Inline ``$ref``s in listed schemas as FastMCP does, once per schema instead of every listing.

FastMCP's own ``DereferenceRefsMiddleware`` (on by default) inlines every tool's ``$defs`` on
each ``tools/list``: about 1 ms a chat tool's output schema, for every provider, every time.
Providers of one preset share their schema objects (``tool_schemas``), so this middleware
keeps each schema's inlined form by the schema's identity and answers with exactly what
FastMCP's would. The server is then built with ``dereference_schemas=False``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import mcp_types
from fastmcp.resources.template import ResourceTemplate
from fastmcp.server.middleware import CallNext, Middleware, MiddlewareContext
from fastmcp.tools import Tool
from fastmcp.utilities.json_schema import dereference_refs

from multichat.runtime.identity_memo import IdentityMemo


class DereferenceOnce(Middleware):
    """Serve schemas with ``$ref``s inlined, each schema object inlined once."""

    def __init__(self) -> None:
        self._inlined = IdentityMemo(_inlined)

    async def on_list_tools(
        self,
        context: MiddlewareContext[mcp_types.ListToolsRequest],
        call_next: CallNext[mcp_types.ListToolsRequest, Sequence[Tool]],
    ) -> Sequence[Tool]:
        """The tools, their input and output schemas inlined."""
        return [self.listed(tool) for tool in await call_next(context)]

    async def on_list_resource_templates(
        self,
        context: MiddlewareContext[mcp_types.ListResourceTemplatesRequest],
        call_next: CallNext[mcp_types.ListResourceTemplatesRequest, Sequence[ResourceTemplate]],
    ) -> Sequence[ResourceTemplate]:
        """The resource templates, their parameter schemas inlined."""
        templates = []
        for template in await call_next(context):
            parameters = self.inline(template.parameters)
            if parameters is not template.parameters:
                template = template.model_copy(update={"parameters": parameters})
            templates.append(template)
        return templates

    def inline(self, schema: dict[str, Any]) -> dict[str, Any]:
        """``schema`` with its ``$ref``s inlined (the schema itself when it has none)."""
        return self._inlined(schema)

    def listed(self, tool: Tool) -> Tool:
        """``tool`` with its schemas inlined (``tool`` itself when they have no ``$ref``)."""
        updates: dict[str, object] = {}
        parameters = self.inline(tool.parameters)
        if parameters is not tool.parameters:
            updates["parameters"] = parameters
        if tool.output_schema is not None:
            output_schema = self.inline(tool.output_schema)
            if output_schema is not tool.output_schema:
                updates["output_schema"] = output_schema
        return tool.model_copy(update=updates) if updates else tool


def _has_ref(schema: dict[str, Any]) -> bool:
    """Whether a ``$ref`` appears in ``schema``, tested as FastMCP's middleware tests it."""
    if "$ref" in schema:
        return True
    for value in schema.values():
        if isinstance(value, dict) and _has_ref(value):
            return True
        if isinstance(value, list) and any(
            isinstance(item, dict) and _has_ref(item) for item in value
        ):
            return True
    return False


def _inlined(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with its ``$ref``s inlined, as FastMCP's own middleware does."""
    return dereference_refs(schema) if "$defs" in schema or _has_ref(schema) else schema
