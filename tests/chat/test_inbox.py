"""The inbox tools through a real MCP client, over real sandboxes standing in for two platforms.

``alpha`` is Ada on one sandbox; ``beta`` is Grace on a second sandbox that has four newer
messages of its own (``seed_channel`` with another seed); ``gamma`` is on the first sandbox but
never signed in; ``notes`` is a guide-written provider (no preset) whose own tools return the
chat tools' result shapes, and whose ``catch_up`` raises.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastmcp import Client
from fastmcp.client.transports import StdioTransport
from helpers import connect, free_port, set_provider_keys

from multichat.chat.inbox import INBOX_TOOLS
from multichat.chat.models import ChatMessage
from multichat.chat.tools import READERS
from multichat.runtime import build_server, load_config, provider_auth
from multichat.runtime.loader import activate_workspace
from multichat.runtime.token_access import reset_provider_auth
from multichat.runtime.untrusted import NOTICE, unmark_untrusted
from multichat.sandbox import (
    SANDBOX_CLIENT_ID,
    SandboxServer,
    issue_tokens,
    seed_channel,
    set_faults,
)

SCOPES = ["chat:read", "chat:write", "users:read"]
NOTES_TOOLS = '''"""A guide-written provider's own tools in the chat tools' result shapes."""

from ..mcp_instance import tool


@tool(read_only=True)
def get_my_mentions(limit: int = 20, cursor: str | None = None) -> dict:
    """Notes that mention me."""
    message = {
        "id": "note-1",
        "channel_id": "inbox",
        "channel_name": "notes",
        "author_id": "me",
        "author": "Note Taker",
        "sent_at": "2025-06-07T08:00:00+00:00",
        "text": "<<untrusted-chat-message>>@ada book Lisbon<</untrusted-chat-message>>",
    }
    return {"messages": [message], "next_cursor": None}


@tool(read_only=True)
def catch_up(per_channel: int = 5, max_channels: int = 50) -> dict:
    """Always fails."""
    raise RuntimeError("the notes index is corrupt")
'''


@pytest.fixture(scope="module")
def second_sandbox() -> Iterator[SandboxServer]:
    """The second platform: the same seed, then four newer messages in #engineering."""
    with SandboxServer() as server:
        seed_channel(server.app.state.db, "engineering", 4, seed=7)
        yield server


@pytest.fixture(scope="module")
def inbox_workspace(
    sandbox: SandboxServer,
    second_sandbox: SandboxServer,
    _workspace_template: Path,
    tmp_path_factory,
) -> Path:
    """alpha (Ada, first sandbox), beta (Grace, second), gamma (signed out), notes (guide's)."""
    from multichat.generator.provider import add_provider

    folder = tmp_path_factory.mktemp("inbox") / "ws"
    shutil.copytree(_workspace_template, folder)
    config = folder / "provider-config.yaml"
    for name, platform in (("alpha", sandbox), ("beta", second_sandbox), ("gamma", sandbox)):
        data = {"platform_url": platform.url, "port": free_port()}
        add_provider(name, config_path=config, preset="sandbox", data=data)
    add_provider("notes", config_path=config, data={"port": free_port()})
    (folder / "src/providers/notes/tools/notes.py").write_text(NOTES_TOOLS)
    activate_workspace(load_config(config))
    reset_provider_auth()
    db_a, db_b = sandbox.app.state.db, second_sandbox.app.state.db
    provider_auth("alpha").save_credentials(issue_tokens(db_a, SANDBOX_CLIENT_ID, "U01", SCOPES))
    provider_auth("beta").save_credentials(issue_tokens(db_b, SANDBOX_CLIENT_ID, "U02", SCOPES))
    reset_provider_auth()
    return folder


@pytest.fixture
def slow_beta(second_sandbox: SandboxServer) -> Iterator[None]:
    """Every request to the second platform takes three seconds."""
    set_faults(second_sandbox.app, latency_ms=3000)
    yield
    set_faults(second_sandbox.app)


async def call(client: Client[Any], tool: str, **arguments: Any) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    return result.structured_content


def missing(answer: dict[str, Any]) -> dict[str, dict[str, str]]:
    return {item["provider"]: item for item in answer["not_included"]}


def notices(value: Any) -> int:
    """How many ``notice`` keys the answer holds at any depth."""
    if isinstance(value, dict):
        return ("notice" in value) + sum(notices(item) for item in value.values())
    if isinstance(value, list):
        return sum(notices(item) for item in value)
    return 0


# ---- what is served --------------------------------------------------------------------------


def test_each_inbox_tool_asks_for_a_chat_reader_and_carries_every_message_field():
    from multichat.chat.inbox_models import InboxMessage

    assert set(INBOX_TOOLS.values()) <= set(READERS)
    assert set(ChatMessage.model_fields) <= set(InboxMessage.model_fields)


async def test_the_inbox_tools_are_served_read_only_beside_the_providers(inbox_workspace):
    async with connect(inbox_workspace) as client:
        tools = {tool.name: tool for tool in await client.list_tools()}

    for name in INBOX_TOOLS:
        assert tools[name].annotations.read_only_hint is True, name
        assert "Example" in (tools[name].description or ""), name
        assert tools[name].output_schema is None, name  # opt-out as the chat tools' (context.md)
    assert "alpha_catch_up" in tools
    assert "notes_get_my_mentions" in tools


async def test_dynamic_mode_lists_the_inbox_from_the_start_and_it_asks_every_provider(
    inbox_workspace,
):
    server, _ = build_server(load_config(inbox_workspace / "provider-config.yaml"), dynamic=True)
    async with Client(server) as client:
        names = {tool.name for tool in await client.list_tools()}
        answer = await call(client, "inbox_catch_up", per_channel=2, limit=50)

    assert names == {
        *INBOX_TOOLS,
        "multichat_list_toolsets",
        "multichat_enable_toolset",
    }
    # No toolset enabled for this client, yet each provider the config serves answers.
    assert answer["included"] == ["alpha", "beta"]


async def test_an_inbox_tool_needs_two_providers_that_serve_its_chat_tool(inbox_workspace):
    server, _ = build_server(
        load_config(inbox_workspace / "provider-config.yaml"), ["alpha", "notes"]
    )
    async with Client(server) as client:
        names = {tool.name for tool in await client.list_tools()}

    # notes serves catch_up and get_my_mentions, not search_messages.
    assert {"inbox_catch_up", "inbox_mentions"} <= names
    assert "inbox_search" not in names


async def test_no_inbox_tool_in_a_workspace_without_chat_providers(workspace, add_provider):
    add_provider("alpha")
    add_provider("beta")
    async with connect(workspace) as client:
        names = {tool.name for tool in await client.list_tools()}

    assert "alpha_provider_info" in names
    assert not any(name.startswith("inbox_") for name in names)


# ---- merged answers --------------------------------------------------------------------------


async def test_catch_up_merges_both_platforms_most_urgent_first_with_one_notice(inbox_workspace):
    async with connect(inbox_workspace) as client:
        answer = await call(client, "inbox_catch_up", per_channel=2, limit=50)

    assert answer["included"] == ["alpha", "beta"]
    assert answer["notice"] == NOTICE
    assert notices(answer) == 1
    channels = answer["channels"]
    assert {channel["provider"] for channel in channels} == {"alpha", "beta"}
    assert {channel["platform"] for channel in channels} == {"Sandbox"}
    assert answer["total_unread"] == sum(channel["unread_count"] for channel in channels)
    # Channels that mention the user first, then the newest message first.
    keys = [
        (-channel["mentions_of_me"], [m["sent_at"] for m in channel["latest"]])
        for channel in channels
    ]
    urgent = [key[0] for key in keys]
    assert urgent == sorted(urgent)
    calm = [max(key[1]) for key in keys if key[0] == 0]
    assert calm == sorted(calm, reverse=True)
    # beta's #engineering holds the four messages only the second platform has: newest of all.
    calm_channels = [channel for channel in channels if channel["mentions_of_me"] == 0]
    assert (calm_channels[0]["provider"], calm_channels[0]["channel_name"]) == (
        "beta",
        "engineering",
    )
    for channel in channels:
        for message in channel["latest"]:
            assert message["author"]
            assert message["channel_name"] == channel["channel_name"]
            unmark_untrusted(message["text"])
    # Partial results: the signed-out and the raising provider, each with its fix.
    gone = missing(answer)
    assert set(gone) == {"gamma", "notes"}
    assert "not authenticated" in gone["gamma"]["reason"]
    assert gone["gamma"]["fix"] == "multichat auth gamma"
    assert "the notes index is corrupt" in gone["notes"]["reason"]
    assert "notes_catch_up" in gone["notes"]["fix"]


async def test_mentions_are_newest_first_across_platforms_guide_providers_included(
    inbox_workspace,
):
    async with connect(inbox_workspace) as client:
        answer = await call(client, "inbox_mentions", limit=5)
        ada = await call(client, "alpha_get_my_mentions", limit=5)

    assert answer["included"] == ["alpha", "beta", "notes"]
    assert notices(answer) == 1
    messages = answer["messages"]
    assert len(messages) == 5
    assert [m["sent_at"][:19] for m in messages] == sorted(
        (m["sent_at"][:19] for m in messages), reverse=True
    )
    first = messages[0]
    assert (first["provider"], first["platform"], first["id"]) == ("notes", "notes", "note-1")
    assert {m["provider"] for m in messages} == {"alpha", "beta", "notes"}
    # Ada's own mentions appear as alpha's tool gives them, only tagged with the provider.
    from_alpha = [m for m in messages if m["provider"] == "alpha"]
    by_id = {m["id"]: m for m in ada["messages"]}
    for message in from_alpha:
        assert {k: v for k, v in message.items() if k not in ("provider", "platform")} == by_id[
            message["id"]
        ]
    assert set(missing(answer)) == {"gamma"}


async def test_ids_round_trip_into_the_providers_own_reply_tool(inbox_workspace):
    async with connect(inbox_workspace) as client:
        answer = await call(client, "inbox_mentions", providers=["alpha", "beta"], limit=10)
        target = next(m for m in answer["messages"] if m["provider"] == "beta")
        reply = await call(
            client, f"{target['provider']}_reply_to_thread", message_id=target["id"], text="On it"
        )
        try:
            beta_thread = await call(client, "beta_get_thread", message_id=target["id"])
            alpha_thread = await call(client, "alpha_get_thread", message_id=target["id"])
        finally:
            await call(client, "beta_delete_message", message_id=reply["id"])

    assert reply["thread_id"] == target["id"]
    assert reply["channel_id"] == target["channel_id"]
    assert reply["author"] == "Grace Hopper"
    assert reply["id"] in [m["id"] for m in beta_thread["replies"]]
    # The same id on the other platform is another message: the reply went to beta's only.
    assert reply["id"] not in [m["id"] for m in alpha_thread["replies"]]


async def test_search_interleaves_ranks_and_keeps_to_the_window(inbox_workspace):
    async with connect(inbox_workspace) as client:
        everything = await call(client, "inbox_search", query="deploy", limit=200)
        times = sorted({m["sent_at"] for m in everything["messages"]})
        since, until = times[len(times) // 4], times[len(times) // 2]
        window = await call(
            client, "inbox_search", query="deploy", since=since, until=until, limit=200
        )
        one = await call(client, "inbox_search", query="deploy", providers=["beta", "nope"])

    assert everything["included"] == ["alpha", "beta"]
    ranks = [m["provider"] for m in everything["messages"][:2]]
    assert sorted(ranks) == ["alpha", "beta"]  # each platform's best match first
    inside = [m for m in everything["messages"] if since <= m["sent_at"] < until]
    assert inside
    assert sorted(m["id"] + m["provider"] for m in window["messages"]) == sorted(
        m["id"] + m["provider"] for m in inside
    )
    assert one["included"] == ["beta"]
    assert {m["provider"] for m in one["messages"]} == {"beta"}
    assert missing(one)["nope"]["fix"] == "name one of: alpha, beta, gamma"


async def test_a_bad_time_is_the_models_to_fix(inbox_workspace):
    async with connect(inbox_workspace) as client:
        result = await client.call_tool(
            "inbox_mentions", {"since": "yesterday"}, raise_on_error=False
        )

    assert result.is_error
    assert "give an age (24h, 7d)" in result.content[0].text


# ---- partial results -------------------------------------------------------------------------


async def test_a_provider_past_its_budget_is_left_out_and_the_others_answer(
    inbox_workspace, slow_beta
):
    async with connect(inbox_workspace) as client:
        answer = await call(client, "inbox_mentions", timeout_seconds=1)

    assert answer["included"] == ["alpha", "notes"]
    gone = missing(answer)
    assert gone["beta"]["reason"] == "no answer within 1 s"
    assert "timeout_seconds above 1" in gone["beta"]["fix"]
    assert answer["messages"]
    assert {m["provider"] for m in answer["messages"]} == {"alpha", "notes"}


async def test_a_tool_the_config_hides_is_not_used(inbox_workspace, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(inbox_workspace, copy)
    set_provider_keys(copy, "beta", enabled_tools=["catch_up", "provider_info"])
    set_provider_keys(copy, "alpha", read_only=True)
    reset_provider_auth()
    try:
        async with connect(copy) as client:
            answer = await call(client, "inbox_mentions", limit=5)
            names = {tool.name for tool in await client.list_tools()}
    finally:
        reset_provider_auth()

    assert "beta_get_my_mentions" not in names
    assert "alpha_reply_to_thread" not in names
    assert "alpha_get_my_mentions" in names
    assert answer["included"] == ["alpha", "notes"]
    assert missing(answer)["beta"]["fix"] == (
        "add get_my_mentions to providers.beta.enabled_tools in provider-config.yaml"
    )


# ---- the guide's python -m src.server --------------------------------------------------------


async def test_the_guides_server_serves_the_inbox_over_stdio(inbox_workspace, tmp_path):
    env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "")}
    transport = StdioTransport(
        command=sys.executable,
        args=["-m", "src.server"],
        cwd=str(inbox_workspace),
        env=env,
        keep_alive=False,
        log_file=tmp_path / "stderr.log",
    )
    async with Client(transport, timeout=60) as client:
        answer = await call(client, "inbox_mentions", limit=3)

    assert answer["included"] == ["alpha", "beta", "notes"]
    assert answer["messages"][0]["provider"] == "notes"
    assert set(missing(answer)) == {"gamma"}
