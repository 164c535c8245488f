"""One server for every provider, through a real MCP client in memory: names, filters, errors."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from fastmcp import Client
from fastmcp.exceptions import ToolError
from helpers import CHAT_PROVIDER_INFO, set_provider_keys

from multichat.runtime.config import load_config
from multichat.runtime.server import INSTRUCTIONS, build_server

WRITING_TOOLS = '''\
"""Tools that write, and one that only reads."""

from ..mcp_instance import tool


@tool(destructive=True)
def post_message(text: str) -> str:
    """Post ``text``."""
    return f"posted {text}"


@tool
def archive_channel(channel: str) -> str:
    """No hints at all: counts as writing."""
    return f"archived {channel}"


@tool(read_only=True)
def peek() -> str:
    """Read something."""
    return "peeked"
'''


def config_of(workspace: Path):
    return load_config(workspace / "provider-config.yaml")


async def tool_names(workspace: Path, providers: list[str] | None = None) -> set[str]:
    server, report = build_server(config_of(workspace), providers)
    assert report.failures == []
    async with Client(server) as client:
        return {tool.name for tool in await client.list_tools()}


@pytest.fixture
def two_providers(workspace, add_provider) -> Path:
    add_provider("alpha")
    add_provider("beta")
    return workspace


async def test_every_provider_is_mounted_under_its_name(two_providers):
    server, report = build_server(config_of(two_providers))

    assert report.failures == []
    async with Client(server) as client:
        names = {tool.name for tool in await client.list_tools()}
        info = await client.call_tool("alpha_provider_info", {})
        instructions = client.instructions

    assert {"alpha_provider_info", "beta_provider_info", "alpha_whoami", "beta_whoami"} <= names
    assert all(name.startswith(("alpha_", "beta_")) for name in names)
    assert info.data["provider"] == "alpha"
    assert info.data["name"] == "Alpha"
    assert info.data["authenticated"] is False
    assert info.data["sign_in_command"] == "multichat auth alpha"
    assert instructions == INSTRUCTIONS


async def test_an_expired_token_that_a_refresh_token_renews_counts_as_signed_in(two_providers):
    """The next call renews it, so provider_info must not send the model to sign in again."""
    import json

    config = config_of(two_providers)
    token_path = config.token_path("alpha")
    token_path.write_text(
        json.dumps({"access_token": "a-1", "refresh_token": "r-1", "expires_at": 1000})
    )
    server, _ = build_server(config)
    async with Client(server) as client:
        alpha = await client.call_tool("alpha_provider_info", {})
        beta = await client.call_tool("beta_provider_info", {})
    assert alpha.data["authenticated"] is True
    assert alpha.data["token_expires_at"] == "1970-01-01T00:16:40+00:00"
    assert beta.data["authenticated"] is False  # no token at all


async def test_only_the_providers_asked_for_are_served(two_providers):
    names = await tool_names(two_providers, ["beta"])

    assert "beta_provider_info" in names
    assert not any(name.startswith("alpha_") for name in names)


async def test_a_broken_provider_is_in_the_report_and_the_rest_is_served(two_providers):
    (two_providers / "src" / "providers" / "beta" / "server_auth.py").unlink()

    server, report = build_server(config_of(two_providers))

    assert [failure.name for failure in report.failures] == ["beta"]
    async with Client(server) as client:
        names = {tool.name for tool in await client.list_tools()}
    assert "alpha_provider_info" in names
    assert not any(name.startswith("beta_") for name in names)


async def test_whoami_before_sign_in_names_the_command_that_fixes_it(two_providers):
    server, _ = build_server(config_of(two_providers))

    async with Client(server) as client:
        with pytest.raises(ToolError) as caught:
            await client.call_tool("alpha_whoami", {})

    message = str(caught.value)
    assert "multichat auth alpha" in message
    assert message.startswith("alpha is not authenticated")
    assert "Error calling tool" not in message


async def test_read_only_hides_writing_tools_from_list_and_call(two_providers):
    for provider in ("alpha", "beta"):
        (two_providers / "src" / "providers" / provider / "tools" / "writing.py").write_text(
            WRITING_TOOLS
        )
    set_provider_keys(two_providers, "alpha", read_only=True)
    server, report = build_server(config_of(two_providers))
    assert report.failures == []

    async with Client(server) as client:
        names = {tool.name for tool in await client.list_tools()}
        assert (await client.call_tool("alpha_peek", {})).data == "peeked"
        for hidden in ("alpha_post_message", "alpha_archive_channel"):
            with pytest.raises(ToolError, match="Unknown tool"):
                await client.call_tool(hidden, {"text": "hi", "channel": "general"})
        assert (await client.call_tool("beta_post_message", {"text": "hi"})).data == "posted hi"

    assert {"alpha_peek", "alpha_provider_info", "alpha_whoami"} <= names
    assert "alpha_post_message" not in names
    assert "alpha_archive_channel" not in names
    assert {"beta_post_message", "beta_archive_channel", "beta_peek"} <= names


async def test_filters_belong_to_the_server_not_to_the_provider(two_providers):
    (two_providers / "src" / "providers" / "alpha" / "tools" / "writing.py").write_text(
        WRITING_TOOLS
    )
    set_provider_keys(two_providers, "alpha", read_only=True)
    assert "alpha_post_message" not in await tool_names(two_providers)

    set_provider_keys(two_providers, "alpha", read_only=False)
    assert "alpha_post_message" in await tool_names(two_providers)


async def test_enabled_tools_serves_only_that_subset(two_providers):
    (two_providers / "src" / "providers" / "alpha" / "tools" / "writing.py").write_text(
        WRITING_TOOLS
    )
    set_provider_keys(two_providers, "alpha", enabled_tools=["provider_info", "post_message"])
    server, _ = build_server(config_of(two_providers))

    async with Client(server) as client:
        names = {tool.name for tool in await client.list_tools()}
        with pytest.raises(ToolError, match="Unknown tool"):
            await client.call_tool("alpha_whoami", {})
        assert (await client.call_tool("alpha_post_message", {"text": "x"})).data == "posted x"

    assert {name for name in names if name.startswith("alpha_")} == {
        "alpha_provider_info",
        "alpha_post_message",
    }
    assert {"beta_provider_info", "beta_whoami"} <= names


async def test_read_only_and_enabled_tools_combine(two_providers):
    (two_providers / "src" / "providers" / "alpha" / "tools" / "writing.py").write_text(
        WRITING_TOOLS
    )
    set_provider_keys(
        two_providers, "alpha", read_only=True, enabled_tools=["post_message", "peek"]
    )

    names = await tool_names(two_providers)

    assert {name for name in names if name.startswith("alpha_")} == {"alpha_peek"}


async def test_an_empty_enabled_tools_list_serves_nothing_of_that_provider(two_providers):
    set_provider_keys(two_providers, "alpha", enabled_tools=[])

    names = await tool_names(two_providers)

    assert not any(name.startswith("alpha_") for name in names)
    assert "beta_provider_info" in names


async def test_switching_workspaces_in_one_process(workspace, add_provider, tmp_path, request):
    from multichat.generator.provider import add_provider as generate

    add_provider("alpha", display_name="First Alpha")
    second = tmp_path / "second"
    shutil.copytree(request.getfixturevalue("_workspace_template"), second)
    generate("alpha", config_path=second / "provider-config.yaml", data={"display_name": "Two"})
    (second / "src" / "providers" / "alpha" / "tools" / "only_here.py").write_text(
        "from ..mcp_instance import tool\n\n\n@tool(read_only=True)\n"
        "def only_in_second() -> str:\n    return 'second'\n"
    )

    async def serve(root: Path) -> tuple[set[str], str]:
        server, report = build_server(config_of(root))
        assert report.failures == []
        async with Client(server) as client:
            names = {tool.name for tool in await client.list_tools()}
            info = await client.call_tool("alpha_provider_info", {})
        return names, info.data["name"]

    names, display = await serve(workspace)
    assert display == "First Alpha"
    assert "alpha_only_in_second" not in names

    names, display = await serve(second)
    assert display == "Two"
    assert "alpha_only_in_second" in names
    assert Path(sys.modules["src"].__file__).resolve().is_relative_to(second.resolve())
    assert not any(
        Path(getattr(module, "__file__", None) or second)
        .resolve()
        .is_relative_to(workspace.resolve())
        for name, module in list(sys.modules.items())
        if name == "src" or name.startswith("src.")
    )

    names, display = await serve(workspace)
    assert display == "First Alpha"
    assert "alpha_only_in_second" not in names


DIRECT_COMPONENTS = '''\
"""A tool and a resource added straight on the provider's FastMCP, bypassing ``tool``."""

from ..mcp_instance import mcp


@mcp.tool
def raw_tool() -> str:
    """Registered without the provider's decorator."""
    return "raw"


@mcp.resource("notes://today")
def notes() -> str:
    """A resource of the provider."""
    return "today's notes"
'''


async def test_a_provider_with_other_components_is_served_whole(workspace, add_provider):
    add_provider("alpha")
    folder = add_provider("beta")
    (folder / "tools" / "direct.py").write_text(DIRECT_COMPONENTS)
    set_provider_keys(workspace, "beta", read_only=True)
    server, report = build_server(config_of(workspace))
    assert report.failures == []
    async with Client(server) as client:
        names = {tool.name for tool in await client.list_tools()}
        resources = [str(resource.uri) for resource in await client.list_resources()]
        with pytest.raises(ToolError, match="Unknown tool"):
            await client.call_tool("beta_raw_tool", {})
    # all of beta is served (a resource and an undecorated tool too), and read_only hides the
    # undecorated tool (nothing marks it read-only)
    assert "beta_provider_info" in names
    assert "beta_raw_tool" not in names
    assert any("notes" in uri for uri in resources)
    # alpha, made only of decorated tools, is served with the same names
    assert {"alpha_provider_info", "alpha_whoami"} <= names


async def test_an_undecorated_tool_is_served_when_not_read_only(workspace, add_provider):
    folder = add_provider("beta")
    (folder / "tools" / "direct.py").write_text(DIRECT_COMPONENTS)
    server, _ = build_server(config_of(workspace))
    async with Client(server) as client:
        result = await client.call_tool("beta_raw_tool", {})
    assert result.data == "raw"


GC_PROBE = '''\
"""Records whether the cyclic garbage collector ran while this module was imported."""

import gc

COLLECTING = gc.isenabled()
'''


def test_providers_load_with_the_collector_paused_and_it_runs_again_after(workspace, add_provider):
    import gc

    add_provider("alpha")
    (workspace / "src/providers/alpha/tools/gc_probe.py").write_text(GC_PROBE)
    assert gc.isenabled()

    _, report = build_server(config_of(workspace))

    assert report.failures == []
    assert sys.modules["src.providers.alpha.tools.gc_probe"].COLLECTING is False
    assert gc.isenabled()


@pytest.fixture
def colliding_providers(workspace, add_provider) -> Path:
    """``chat``'s ``provider_info`` and ``chat_provider``'s ``info``: both chat_provider_info."""
    add_provider("chat")
    folder = add_provider("chat_provider")
    (folder / "tools" / "info.py").write_text(CHAT_PROVIDER_INFO)
    return workspace


async def test_a_name_two_providers_serve_is_served_by_the_first_and_reported(
    colliding_providers, caplog
):
    server, report = build_server(config_of(colliding_providers))

    async with Client(server) as client:
        listed = [tool.name for tool in await client.list_tools()]
        answer = await client.call_tool("chat_provider_info", {})
        own = await client.call_tool("chat_provider_provider_info", {})

    assert listed.count("chat_provider_info") == 1
    assert answer.data["provider"] == "chat"  # chat's provider_info, not chat_provider's info
    assert own.data["provider"] == "chat_provider"  # chat_provider's other tools are served
    assert {"chat_whoami", "chat_provider_whoami"} <= set(listed)
    [collision] = report.collisions
    assert (collision.served, collision.kept, collision.kept_tool) == (
        "chat_provider_info",
        "chat",
        "provider_info",
    )
    assert (collision.dropped, collision.dropped_tool) == ("chat_provider", "info")
    assert "Duplicate" not in caplog.text


async def test_a_name_one_config_hides_finds_the_other_providers_tool(colliding_providers):
    set_provider_keys(colliding_providers, "chat", enabled_tools=["whoami"])

    server, report = build_server(config_of(colliding_providers))

    async with Client(server) as client:
        listed = [tool.name for tool in await client.list_tools()]
        answer = await client.call_tool("chat_provider_info", {})
    assert listed.count("chat_provider_info") == 1
    assert answer.data == "I am chat_provider.info"
    assert report.collisions == []


async def test_dynamic_mode_neither_offers_nor_lists_the_tool_left_out(colliding_providers):
    from multichat.runtime.dynamic import ENABLE_TOOL, LIST_TOOL

    server, _ = build_server(config_of(colliding_providers), dynamic=True)

    async with Client(server) as client:
        toolsets = (await client.call_tool(LIST_TOOL, {})).data["providers"]
        for provider in ("chat", "chat_provider"):
            await client.call_tool(ENABLE_TOOL, {"provider": provider, "toolset": "all"})
        listed = [tool.name for tool in await client.list_tools()]
        answer = await client.call_tool("chat_provider_info", {})

    assert "chat_provider_info" in toolsets["chat"]["read"]["tools"]
    assert "chat_provider_info" not in toolsets["chat_provider"]["all"]["tools"]
    assert "chat_provider_whoami" in toolsets["chat_provider"]["all"]["tools"]
    assert listed.count("chat_provider_info") == 1  # enabling chat's does not revive the other
    assert answer.data["provider"] == "chat"
