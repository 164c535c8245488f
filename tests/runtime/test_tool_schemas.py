"""Tools whose schemas are shared list exactly as tools built the plain way, and still work.

Both are listed as multichat's server lists them, through ``LeanListing``: a shared tool is
built lean, a plain one is made lean by the middleware, and the two must not differ.

Annotations are real objects here (no ``from __future__ import annotations``): the tools are
closures whose annotations name the enclosing function's variables, as the chat tools' do.
"""

import json
from collections.abc import Callable, Mapping
from typing import Annotated, Any

import pytest
from fastmcp import Client, Context, FastMCP
from fastmcp.exceptions import ToolError
from pydantic import Field

from multichat.platforms import adapter_class
from multichat.runtime import register_chat_tools
from multichat.runtime.lean_listing import LeanListing
from multichat.runtime.tool_schemas import add_function_tool, forget_built_tools

Adder = Callable[[FastMCP[Any], Callable[..., Any], str, Mapping[str, Any] | None], None]


def lean_server(name: str) -> FastMCP[Any]:
    """A server that lists its tools as multichat's does (``build_server``'s middleware)."""
    return FastMCP(name, middleware=[LeanListing()])


def plain(
    mcp: FastMCP[Any], function: Callable[..., Any], name: str, hints: Mapping[str, Any] | None
) -> None:
    """FastMCP's own way, as the registry called it before schemas were shared."""
    mcp.tool(function, name=name, description=None, annotations=hints, timeout=60.0)


def shared(
    mcp: FastMCP[Any], function: Callable[..., Any], name: str, hints: Mapping[str, Any] | None
) -> None:
    add_function_tool(
        mcp, function, name=name, description=None, annotations=hints, options={"timeout": 60.0}
    )


def chat_server(add: Adder, preset: str = "sandbox") -> FastMCP[Any]:
    """A server with ``preset``'s chat tools, fresh closures, added through ``add``."""
    mcp: FastMCP[Any] = lean_server("chat")

    def tool(name: str | None = None, **hints: Any) -> Callable[[Any], Any]:
        def register(function: Any) -> Any:
            given = {f"{key}Hint": value for key, value in hints.items() if value is not None}
            add(mcp, function, name or function.__name__, given or None)
            return function

        return register

    register_chat_tools(tool, adapter_class(preset)("chat"))  # type: ignore[arg-type]
    return mcp


async def listing(mcp: FastMCP[Any]) -> str:
    """The ``tools/list`` answer as the client received it, as JSON text."""
    async with Client(mcp) as client:
        tools = await client.list_tools()
    return json.dumps([tool.model_dump(mode="json", by_alias=True) for tool in tools])


@pytest.fixture(autouse=True)
def _nothing_kept() -> None:
    forget_built_tools()


@pytest.mark.parametrize("preset", ["sandbox", "zulip"])
async def test_chat_tools_list_byte_for_byte_as_plain_tools(preset: str) -> None:
    expected = await listing(chat_server(plain, preset))
    first = chat_server(shared, preset)
    second = chat_server(shared, preset)

    assert await listing(first) == expected
    assert await listing(second) == expected
    # The second server's tools really are copies: they hold the first one's schemas.
    for tool in await first.list_tools():
        copy = await second.get_tool(tool.name)
        assert copy is not None
        assert copy.parameters is tool.parameters
        assert copy.fn is not tool.fn


async def test_the_same_code_with_other_annotation_values_gets_its_own_schema() -> None:
    def make(description: str, pattern: str) -> Callable[..., str]:
        def lookup(
            word: Annotated[str, Field(description=description, pattern=pattern)],
        ) -> str:
            """Look a word up."""
            return word

        return lookup

    cases = [("A word.", "^a"), ("A word.", "^a"), ("Another word.", "^a"), ("A word.", "^b")]
    for description, pattern in cases:
        expected = lean_server("plain")
        plain(expected, make(description, pattern), "lookup", None)
        ours = lean_server("ours")
        shared(ours, make(description, pattern), "lookup", None)
        assert await listing(ours) == await listing(expected)
        listed = json.loads(await listing(ours))[0]["inputSchema"]["properties"]["word"]
        assert (listed["description"], listed["pattern"]) == (description, pattern)


async def test_a_shared_tool_runs_its_own_function_and_validates_its_arguments() -> None:
    def make(answer: str) -> Callable[..., Any]:
        async def answer_tool(limit: Annotated[int, Field(ge=1, le=200)] = 20) -> dict[str, Any]:
            """Answer with this server's word."""
            return {"answer": answer, "limit": limit}

        return answer_tool

    servers = {}
    for answer in ("one", "two"):
        servers[answer] = lean_server(answer)
        shared(servers[answer], make(answer), "answer", None)
    expected = lean_server("plain")
    plain(expected, make("plain"), "answer", None)

    for answer, mcp in servers.items():
        async with Client(mcp) as client:
            result = await client.call_tool("answer", {"limit": 3})
            assert result.structured_content == {"answer": answer, "limit": 3}
            with pytest.raises(ToolError) as ours:
                await client.call_tool("answer", {"limit": 0})
        async with Client(expected) as client:
            with pytest.raises(ToolError) as theirs:
                await client.call_tool("answer", {"limit": 0})
        assert str(ours.value) == str(theirs.value)
        assert "greater than or equal to 1" in str(ours.value)


async def test_a_tool_taking_a_context_is_built_afresh_and_gets_its_context() -> None:
    def make() -> Callable[..., Any]:
        async def server_name(ctx: Context, shout: bool = False) -> str:
            """Name the server that runs this tool."""
            name = ctx.fastmcp.name
            return name.upper() if shout else name

        return server_name

    for name in ("alpha", "beta"):
        mcp = lean_server(name)
        shared(mcp, make(), "server_name", None)
        expected = lean_server(name)
        plain(expected, make(), "server_name", None)
        assert await listing(mcp) == await listing(expected)
        async with Client(mcp) as client:
            assert (await client.call_tool("server_name", {"shout": True})).data == name.upper()


async def test_options_fastmcp_does_not_take_here_go_through_mcp_tool() -> None:
    mcp = lean_server("apps")

    def shown() -> str:
        """Shown in an app."""
        return "shown"

    add_function_tool(
        mcp, shown, name="shown", description=None, annotations=None, options={"app": True}
    )
    tool = await mcp.get_tool("shown")
    assert tool is not None
    assert tool.meta is not None
    assert "ui" in tool.meta


Word = Annotated[str, Field(description="A word.")]


async def test_closures_differing_in_a_default_or_docstring_are_described_apart() -> None:
    def make(default: str, doc: str | None = None) -> Callable[..., str]:
        def lookup(word: Word = default) -> str:
            """Look a word up."""
            return word

        if doc is not None:
            lookup.__doc__ = doc
        return lookup

    for default, doc in [("a", None), ("a", None), ("b", None), ("a", "Find a word.")]:
        expected = lean_server("plain")
        plain(expected, make(default, doc), "lookup", None)
        ours = lean_server("ours")
        shared(ours, make(default, doc), "lookup", None)
        assert await listing(ours) == await listing(expected)
        listed = json.loads(await listing(ours))[0]
        assert listed["inputSchema"]["properties"]["word"]["default"] == default
        assert listed["description"] == (doc or "Look a word up.")


def test_closures_of_one_code_and_the_same_annotations_are_described_once() -> None:
    from multichat.runtime.tool_schemas import describe_function

    def make(default: str) -> Callable[..., str]:
        def lookup(word: Word = default) -> str:
            """Look a word up."""
            return word

        return lookup

    first = describe_function(make("a"))
    assert first is not None
    assert describe_function(make("a")) is first
    assert describe_function(make("b")) is not first
    other = make("a")
    other.__annotations__ = {"word": Annotated[str, Field(description="Another word.")]}
    assert describe_function(other) is not first
