"""The guide's ``tool`` decorator: every call form, annotations, duplicates and error text."""

from __future__ import annotations

import importlib.util
import itertools
import sys
from pathlib import Path
from types import ModuleType

import pytest
from fastmcp import Client, FastMCP
from fastmcp.exceptions import ToolError

from multichat.errors import DuplicateTool, MultichatError, NotAuthenticated
from multichat.runtime.registry import (
    public_tool_name,
    registered_tools,
    tool_decorator_factory,
)

_counter = itertools.count()


def fresh_provider() -> str:
    """A provider name no other test has registered tools under."""
    return f"registry{next(_counter)}"


def load_module(path: Path, text: str) -> ModuleType:
    """Write ``text`` to ``path`` and import it under a unique module name."""
    path.write_text(text, encoding="utf-8")
    name = f"registry_case_{next(_counter)}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        sys.modules.pop(name, None)
    return module


async def listed(mcp: FastMCP) -> dict:
    async with Client(mcp) as client:
        return {tool.name: tool for tool in await client.list_tools()}


async def test_every_call_form_registers_a_tool():
    provider = fresh_provider()
    mcp = FastMCP(provider)
    tool = tool_decorator_factory(provider, mcp)

    @tool
    def bare() -> str:
        """Bare."""
        return "bare"

    @tool()
    def called() -> str:
        """Called."""
        return "called"

    @tool("positional_name")
    def positional() -> str:
        """Positional."""
        return "positional"

    @tool(name="keyword_name", description="Told by keyword.")
    def keyword() -> str:
        """Docstring that the description replaces."""
        return "keyword"

    tools = await listed(mcp)

    assert sorted(tools) == ["bare", "called", "keyword_name", "positional_name"]
    assert tools["bare"].description == "Bare."
    assert tools["keyword_name"].description == "Told by keyword."
    assert sorted(registered_tools(provider)) == sorted(tools)
    async with Client(mcp) as client:
        for name, expected in [
            ("bare", "bare"),
            ("called", "called"),
            ("positional_name", "positional"),
            ("keyword_name", "keyword"),
        ]:
            assert (await client.call_tool(name, {})).data == expected


def test_the_decorator_returns_the_plain_function():
    provider = fresh_provider()
    tool = tool_decorator_factory(provider, FastMCP(provider))

    def add(a: int, b: int) -> int:
        return a + b

    assert tool(add) is add
    assert tool()(add) is add
    assert add(2, 3) == 5


async def test_the_guide_tool_suffix_is_dropped():
    provider = fresh_provider()
    mcp = FastMCP(provider)
    tool = tool_decorator_factory(provider, mcp)

    @tool
    def send_message_tool(text: str) -> str:
        """Send."""
        return text

    @tool(name="kept_tool")
    def explicit() -> str:
        """An explicit name is used as given."""
        return ""

    tools = await listed(mcp)

    assert sorted(tools) == ["kept_tool", "send_message"]
    record = registered_tools(provider)["send_message"]
    assert record.function.endswith("send_message_tool")
    assert record.provider == provider


@pytest.mark.parametrize(
    ("function_name", "public"),
    [("send_tool", "send"), ("tool", "tool"), ("_tool", "_tool"), ("toolkit", "toolkit")],
)
def test_public_tool_name(function_name, public):
    assert public_tool_name(function_name) == public


async def test_annotations_reach_the_client():
    provider = fresh_provider()
    mcp = FastMCP(provider)
    tool = tool_decorator_factory(provider, mcp)

    @tool(read_only=True, idempotent=True)
    def read() -> str:
        """Read."""
        return ""

    @tool(destructive=True, read_only=False, idempotent=False)
    def delete() -> str:
        """Delete."""
        return ""

    @tool(annotations={"openWorldHint": True, "readOnlyHint": False}, read_only=True)
    def merged() -> str:
        """The keyword wins over the mapping."""
        return ""

    @tool
    def plain() -> str:
        """No hints."""
        return ""

    tools = await listed(mcp)

    assert tools["read"].annotations.read_only_hint is True
    assert tools["read"].annotations.idempotent_hint is True
    assert tools["read"].annotations.destructive_hint is None
    assert tools["delete"].annotations.read_only_hint is False
    assert tools["delete"].annotations.destructive_hint is True
    assert tools["delete"].annotations.idempotent_hint is False
    assert tools["merged"].annotations.open_world_hint is True
    assert tools["merged"].annotations.read_only_hint is True
    assert tools["plain"].annotations is None or tools["plain"].annotations.read_only_hint is None

    records = registered_tools(provider)
    assert records["read"].read_only is True
    assert records["delete"].read_only is False
    assert records["merged"].read_only is True
    assert records["plain"].read_only is False
    assert dict(records["read"].annotations) == {"readOnlyHint": True, "idempotentHint": True}


def test_registries_of_providers_are_separate():
    first, second = fresh_provider(), fresh_provider()
    tool_one = tool_decorator_factory(first, FastMCP(first))
    tool_two = tool_decorator_factory(second, FastMCP(second))

    @tool_one
    def same() -> str:
        return ""

    @tool_two(name="same")
    def also_same() -> str:
        return ""

    assert list(registered_tools(first)) == ["same"]
    assert list(registered_tools(second)) == ["same"]


DUPLICATE_ACROSS = """\
from fastmcp import FastMCP

from multichat.runtime.registry import tool_decorator_factory

mcp = FastMCP("{provider}")
tool = tool_decorator_factory("{provider}", mcp)


@tool
def send() -> str:
    return "first"


@tool(name="send")
def post() -> str:
    return "second"
"""


def test_duplicate_names_name_both_definition_sites(tmp_path):
    provider = fresh_provider()
    path = tmp_path / "tools_module.py"

    with pytest.raises(DuplicateTool) as caught:
        load_module(path, DUPLICATE_ACROSS.format(provider=provider))
    message = str(caught.value)

    assert f"{path}:9" in message
    assert f"{path}:14" in message
    assert "'send'" in message
    assert message.startswith(f"{provider}: ")


def test_duplicate_names_across_two_modules_name_both_files(tmp_path):
    provider = fresh_provider()
    mcp = FastMCP(provider)
    tool = tool_decorator_factory(provider, mcp)
    header = "def register(tool):\n"

    first = load_module(tmp_path / "one.py", header + "    @tool\n    def reply():\n        pass\n")
    first.register(tool)
    second = load_module(
        tmp_path / "two.py", header + "\n    @tool('reply')\n    def answer():\n        pass\n"
    )

    with pytest.raises(DuplicateTool) as caught:
        second.register(tool)
    message = str(caught.value)

    assert f"{tmp_path / 'one.py'}:2" in message
    assert f"{tmp_path / 'two.py'}:3" in message
    assert registered_tools(provider)["reply"].function.endswith("register.<locals>.reply")


REDEFINED = """\
from fastmcp import FastMCP

from multichat.runtime.registry import tool_decorator_factory

mcp = FastMCP("{provider}")
tool = tool_decorator_factory("{provider}", mcp)


@tool
def send() -> str:
    return "first"


@tool
def send() -> str:  # noqa: F811
    return "second"
"""


def test_a_function_redefined_in_one_module_is_a_duplicate(tmp_path):
    provider = fresh_provider()
    path = tmp_path / "redefined.py"

    with pytest.raises(DuplicateTool) as caught:
        load_module(path, REDEFINED.format(provider=provider))

    assert f"{path}:9" in str(caught.value)
    assert f"{path}:14" in str(caught.value)


def test_registering_the_same_function_again_is_not_a_duplicate():
    provider = fresh_provider()
    tool = tool_decorator_factory(provider, FastMCP(provider))

    def once() -> str:
        return ""

    tool(once)
    tool(once)

    assert list(registered_tools(provider)) == ["once"]


async def test_our_errors_reach_the_client_with_exactly_their_text():
    provider = fresh_provider()
    mcp = FastMCP(provider)
    tool = tool_decorator_factory(provider, mcp)

    @tool
    def sync_fails() -> str:
        """Fails."""
        raise NotAuthenticated(provider)

    @tool
    async def async_fails() -> str:
        """Fails too."""
        raise MultichatError("the platform said no")

    async with Client(mcp) as client:
        with pytest.raises(ToolError) as sync_error:
            await client.call_tool("sync_fails", {})
        with pytest.raises(ToolError) as async_error:
            await client.call_tool("async_fails", {})

    assert str(sync_error.value) == (
        f"{provider} is not authenticated (no token yet): run `multichat auth {provider}`"
    )
    assert str(async_error.value) == "the platform said no"


async def test_other_exceptions_keep_fastmcp_wrapping():
    provider = fresh_provider()
    mcp = FastMCP(provider)
    tool = tool_decorator_factory(provider, mcp)

    @tool
    def crashes() -> str:
        """Crashes."""
        raise ValueError("plain bug")

    async with Client(mcp) as client:
        with pytest.raises(ToolError) as caught:
            await client.call_tool("crashes", {})

    assert "plain bug" in str(caught.value)
    assert str(caught.value) != "plain bug"


async def test_wrapped_tools_keep_their_arguments_and_results():
    provider = fresh_provider()
    mcp = FastMCP(provider)
    tool = tool_decorator_factory(provider, mcp)

    @tool
    async def echo(text: str, times: int = 2) -> str:
        """Echo ``text`` ``times`` times."""
        return text * times

    tools = await listed(mcp)
    async with Client(mcp) as client:
        result = await client.call_tool("echo", {"text": "ab", "times": 3})

    assert result.data == "ababab"
    assert set(tools["echo"].input_schema["properties"]) == {"text", "times"}
    assert tools["echo"].input_schema["required"] == ["text"]
