"""Schemas inlined once per schema object list exactly as FastMCP's own middleware lists them."""

import json
from typing import Any

from fastmcp import Client, FastMCP
from pydantic import BaseModel

from multichat.platforms import adapter_class
from multichat.runtime import register_chat_tools
from multichat.runtime.dereference import DereferenceOnce


class Point(BaseModel):
    """A point."""

    x: int
    y: int


class Segment(BaseModel):
    """Two points."""

    start: Point
    end: Point


def serve(mcp: FastMCP[Any]) -> FastMCP[Any]:
    """``mcp`` with chat tools, a tool whose input and output have ``$defs``, and a template."""

    def tool(name: str | None = None, **_: Any) -> Any:
        def register(function: Any) -> Any:
            mcp.tool(function, name=name)
            return function

        return register

    register_chat_tools(tool, adapter_class("sandbox")("chat"))

    @mcp.tool
    def flip(segment: Segment) -> Segment:
        """Swap a segment's ends."""
        return Segment(start=segment.end, end=segment.start)

    @mcp.resource("point://{x}/{y}")
    def point(x: int, y: int) -> str:
        """A point as text."""
        return f"{x},{y}"

    return mcp


async def listing(mcp: FastMCP[Any]) -> str:
    async with Client(mcp) as client:
        tools = await client.list_tools()
        templates = await client.list_resource_templates()
    return json.dumps(
        [item.model_dump(mode="json", by_alias=True) for item in [*tools, *templates]]
    )


async def test_listing_is_byte_for_byte_fastmcps_own() -> None:
    theirs = serve(FastMCP("theirs"))
    ours = serve(FastMCP("ours", dereference_schemas=False, middleware=[DereferenceOnce()]))

    expected = await listing(theirs)
    assert "$defs" not in expected
    assert await listing(ours) == expected
    assert await listing(ours) == expected  # from what the first listing kept


def test_a_schema_is_inlined_once_and_one_without_refs_is_kept() -> None:
    middleware = DereferenceOnce()
    schema = Segment.model_json_schema()
    inlined = middleware.inline(schema)

    assert "$defs" in schema
    assert "$defs" not in inlined
    assert middleware.inline(schema) is inlined
    plain = {"type": "object", "properties": {"x": {"type": "integer"}}}
    assert middleware.inline(plain) is plain
