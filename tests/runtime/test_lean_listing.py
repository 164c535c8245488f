"""``tools/list`` without the bytes that say nothing, through a real MCP client in memory.

The workspace has the Slack preset's provider and a guide-written one (``notes``) whose tools
set their own ``_meta``, a tag, and one added with ``mcp.tool`` past the registry.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import jsonschema_rs
import pytest
from fastmcp import Client
from fastmcp.exceptions import ToolError
from helpers import connect
from mcp_types import ToolAnnotations

from multichat.runtime import build_server, load_config
from multichat.runtime.dynamic import ALWAYS_LISTED, ENABLE_TOOL, LIST_TOOL
from multichat.runtime.lean_listing import lean_annotations, without_null_defaults
from multichat.runtime.tool_budget import tool_budget

NOTES_TOOLS = '''"""A guide-written provider's tools: own _meta, a tag, one past the registry."""

from pydantic.json_schema import SkipJsonSchema

from ..mcp_instance import mcp, tool


@tool(read_only=True, idempotent=True, meta={"docs": "https://example.com/notes"})
def find_notes(word: str, cursor: str | SkipJsonSchema[None] = None, limit: int = 20) -> dict:
    """Find notes. Example: {"word": "lisbon"}."""
    return {"word": word, "cursor": cursor, "limit": limit}


@tool(read_only=False, destructive=False, tags={"pinned"})
def add_note(text: str) -> str:
    """Add a note. Example: {"text": "book Lisbon"}."""
    return text


@mcp.tool(annotations={"readOnlyHint": False, "openWorldHint": False})
def forget_note(note: str, reason: str | SkipJsonSchema[None] = None) -> str:
    """Forget a note. Example: {"note": "note-1"}."""
    return note
'''


@pytest.fixture
def lean_workspace(workspace: Path) -> Path:
    from multichat.generator.provider import add_provider

    config = workspace / "provider-config.yaml"
    add_provider("slack", config_path=config, preset="slack", data={})
    add_provider("notes", config_path=config, data={})
    (workspace / "src/providers/notes/tools/notes.py").write_text(NOTES_TOOLS)
    return workspace


def listed(tools: list[Any]) -> dict[str, dict[str, Any]]:
    """The tools as JSON objects, as they came over the wire, by name."""
    return {
        tool.name: tool.model_dump(mode="json", by_alias=True, exclude_none=True) for tool in tools
    }


def property_schemas(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """Every schema under a ``properties`` map in ``schema``, at any depth."""
    found = []
    for key, value in schema.items():
        if key == "properties" and isinstance(value, dict):
            found += [item for item in value.values() if isinstance(item, dict)]
        if isinstance(value, dict):
            found += property_schemas(value)
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, dict):
                    found += property_schemas(item)
    return found


async def test_no_listed_tool_carries_tags_contradictory_nulls_or_default_hints(lean_workspace):
    async with connect(lean_workspace) as client:
        tools = listed(await client.list_tools())

    slack = [name for name in tools if name.startswith("slack_")]
    assert len(slack) == 15
    for name, tool in tools.items():
        assert "fastmcp" not in tool.get("_meta", {}), name
        assert tool.get("_meta") != {}, name
        hints = tool.get("annotations", {})
        assert hints.get("readOnlyHint") is not None, name  # kept on every chat tool
        if hints.get("readOnlyHint"):
            assert hints.get("idempotentHint") is not False, name
        assert hints, name  # every tool keeps its annotations (issue 22)
        assert tool["title"], name
        for prop in property_schemas(tool["inputSchema"]):
            if "default" in prop and prop["default"] is None:
                assert jsonschema_rs.is_valid(prop, None), (name, prop)
    history = tools["slack_get_channel_history"]["inputSchema"]["properties"]
    assert history["cursor"] == {
        "description": "next_cursor from the previous page; omit for the first page.",
        "type": "string",
    }
    assert history["limit"]["default"] == 20  # a default that says something stays
    assert tools["notes_find_notes"]["_meta"] == {"docs": "https://example.com/notes"}
    assert tools["notes_find_notes"]["annotations"] == {
        "readOnlyHint": True,
        "idempotentHint": True,
    }
    assert tools["notes_add_note"]["annotations"] == {
        "readOnlyHint": False,
        "destructiveHint": False,
    }
    assert tools["notes_forget_note"]["annotations"] == {
        "readOnlyHint": False,
        "openWorldHint": False,
    }
    # Past the registry too: the middleware makes it lean.
    assert tools["notes_forget_note"]["inputSchema"]["properties"]["reason"] == {"type": "string"}
    assert "_meta" not in tools["notes_forget_note"]


async def test_tags_stay_on_the_server_and_dynamic_mode_still_goes_by_them(lean_workspace):
    server, report = build_server(
        load_config(lean_workspace / "provider-config.yaml"), dynamic=True
    )
    assert report.failures == []
    async with Client(server) as client:
        before = listed(await client.list_tools())
        await client.call_tool(ENABLE_TOOL, {"provider": "notes", "toolset": "write"})
        after = listed(await client.list_tools())

    assert set(before) == {LIST_TOOL, ENABLE_TOOL}
    assert all("_meta" not in tool for tool in before.values())
    assert {"notes_add_note", "notes_forget_note"} <= set(after) - set(before)
    assert "notes_find_notes" not in after
    listed_tool = await server.get_tool(LIST_TOOL)
    assert listed_tool is not None
    assert ALWAYS_LISTED in listed_tool.tags
    add_note = await report.providers["notes"].mcp.get_tool("add_note")
    assert add_note is not None
    assert add_note.tags == {"pinned"}
    assert "_meta" not in after["notes_add_note"]


async def test_arguments_are_still_checked_against_the_function(lean_workspace):
    async with connect(lean_workspace) as client:
        found = await client.call_tool("notes_find_notes", {"word": "lisbon"})
        assert found.structured_content == {"word": "lisbon", "cursor": None, "limit": 20}
        with pytest.raises(ToolError, match="valid string"):
            await client.call_tool("notes_find_notes", {"word": "lisbon", "cursor": 7})
        with pytest.raises(ToolError, match="valid string"):
            await client.call_tool("notes_forget_note", {"note": "n", "reason": ["why"]})
        with pytest.raises(ToolError, match="valid integer"):
            await client.call_tool(
                "slack_get_channel_history", {"channel_id": "C01", "cursor": None, "limit": "many"}
            )


def test_the_budget_is_the_bytes_a_client_receives(lean_workspace):
    """doctor's figure (``tool_budget``, which runs its own event loop) is what is listed."""
    server, report = build_server(load_config(lean_workspace / "provider-config.yaml"))

    async def listing() -> dict[str, dict[str, Any]]:
        async with Client(server) as client:
            return listed(await client.list_tools())

    tools = anyio.run(listing)
    for provider in ("slack", "notes"):
        own = [tool for name, tool in tools.items() if name.startswith(f"{provider}_")]
        size = len(json.dumps(own, separators=(",", ":")).encode())
        assert tool_budget(report.providers[provider]).size == size, provider


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ({"read_only_hint": False}, None),
        ({"read_only_hint": False, "destructive_hint": True}, None),  # the template checks it
        ({"read_only_hint": False, "destructive_hint": False, "idempotent_hint": False}, None),
        ({"read_only_hint": True, "idempotent_hint": False}, {"read_only_hint": True}),
        (  # destructiveHint keeps its spec default: a client may read a missing one as false
            {"read_only_hint": True, "destructive_hint": True},
            {"read_only_hint": True, "destructive_hint": True},
        ),
        ({"read_only_hint": True, "idempotent_hint": True}, None),
        ({"title": "Add", "read_only_hint": False, "open_world_hint": False}, None),
    ],
)
def test_annotations_lose_only_what_a_client_infers_the_same_without(
    given: dict[str, Any], kept: dict[str, Any] | None
) -> None:
    annotations = ToolAnnotations(**given)
    lean = lean_annotations(annotations)

    assert lean is not None
    if kept is None:
        assert lean is annotations
    else:
        assert lean.model_dump(exclude_none=True) == kept
        assert lean.model_fields_set == kept.keys()


def test_a_null_default_goes_only_where_null_is_not_allowed() -> None:
    schema = {
        "type": "object",
        "properties": {
            "cursor": {"type": "string", "default": None},
            "kinds": {"type": "array", "items": {"enum": ["a", "b"]}, "default": None},
            "either": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
            "maybe": {"type": ["string", "null"], "default": None},
            "limit": {"type": "integer", "default": 20},
            "default": {"$ref": "#/$defs/Point", "default": None},
        },
        "$defs": {"Point": {"type": "object", "properties": {"x": {"const": 1, "default": None}}}},
    }
    original = json.loads(json.dumps(schema))

    lean = without_null_defaults(schema)

    assert schema == original  # copied, not changed in place
    properties = lean["properties"]
    assert properties["cursor"] == {"type": "string"}
    assert properties["kinds"] == {"type": "array", "items": {"enum": ["a", "b"]}}
    assert properties["either"] == schema["properties"]["either"]
    assert properties["maybe"] == schema["properties"]["maybe"]
    assert properties["limit"] == {"type": "integer", "default": 20}
    assert properties["default"] == {"$ref": "#/$defs/Point", "default": None}  # cannot tell
    assert lean["$defs"]["Point"]["properties"]["x"] == {"const": 1}
    assert without_null_defaults(lean) is lean
