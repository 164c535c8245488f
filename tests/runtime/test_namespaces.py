"""Tools are found by their provider's prefix, as FastMCP's namespacing names them."""

from __future__ import annotations

import inspect

import pytest
from fastmcp import Client, FastMCP
from fastmcp.exceptions import NotFoundError
from fastmcp.server.providers import AggregateProvider, Provider

from multichat.runtime.namespaces import NamespacedProviders


def provider_with(*tool_names: str) -> Provider:
    """A FastMCP component store whose tools return their own name."""
    server: FastMCP = FastMCP("child")
    for tool_name in tool_names:

        def answer(tool_name: str = tool_name) -> str:
            return tool_name

        server.tool(answer, name=tool_name)
    return server.local_provider


def served(children: dict[str, Provider]) -> tuple[FastMCP, NamespacedProviders]:
    namespaced = NamespacedProviders()
    for namespace, child in children.items():
        namespaced.add_namespaced(child, namespace)
    server: FastMCP = FastMCP("parent")
    server.add_provider(namespaced)
    return server, namespaced


async def test_tools_are_listed_and_called_under_their_namespace():
    server, _ = served({"slack": provider_with("send", "read"), "zulip": provider_with("send")})
    async with Client(server) as client:
        names = {tool.name for tool in await client.list_tools()}
        assert names == {"slack_send", "slack_read", "zulip_send"}
        result = await client.call_tool("zulip_send", {})
        assert result.data == "send"


async def test_nested_prefixes_reach_the_provider_that_has_the_tool():
    # "a_b_d" could be provider "a"'s "b_d" or provider "a_b"'s "d": each is asked.
    server, _ = served({"a": provider_with("b_d"), "a_b": provider_with("c")})
    async with Client(server) as client:
        assert (await client.call_tool("a_b_d", {})).data == "b_d"
        assert (await client.call_tool("a_b_c", {})).data == "c"
        with pytest.raises(Exception, match="Unknown tool"):
            await client.call_tool("a_c", {})


async def test_a_call_asks_only_the_provider_named_by_the_prefix(monkeypatch):
    children = {f"p{number}": provider_with("echo") for number in range(20)}
    server, namespaced = served(children)
    asked: list[int] = []
    for index, child in enumerate(namespaced.providers):
        original = child.get_tool

        async def counting(name, version=None, *, original=original, index=index):
            asked.append(index)
            return await original(name, version)

        monkeypatch.setattr(child, "get_tool", counting)
    async with Client(server) as client:
        assert (await client.call_tool("p7_echo", {})).data == "echo"
    assert asked == [7]


async def test_an_unknown_name_asks_nobody():
    _, namespaced = served({"slack": provider_with("send")})
    assert await namespaced._get_tool("nobody_send") is None
    assert await namespaced._get_tool("nounderscore") is None


def test_a_namespace_is_given_once():
    namespaced = NamespacedProviders()
    namespaced.add_namespaced(provider_with("send"), "slack")
    with pytest.raises(ValueError, match="taken"):
        namespaced.add_namespaced(provider_with("send"), "slack")


def test_the_lookup_it_overrides_is_the_one_fastmcp_calls():
    # Pinned: FastMCP 4 finds a tool through Provider.get_tool -> self._get_tool(name, version),
    # and AggregateProvider._get_tool is the per-child gather NamespacedProviders replaces.
    assert "self._get_tool(" in inspect.getsource(Provider.get_tool)
    parameters = list(inspect.signature(AggregateProvider._get_tool).parameters)
    assert parameters == ["self", "name", "version"]
    assert issubclass(NotFoundError, Exception)
