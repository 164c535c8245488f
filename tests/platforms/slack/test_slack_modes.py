"""The Slack preset's modes and edges: bot tokens, read_only, token rotation, names that fail.

In memory through a real MCP client, against the same spec-checked fake Slack as the tools.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from fastmcp.exceptions import ToolError
from helpers import connect
from ruamel.yaml import YAML
from slack_support import (
    BOT_TOKEN,
    EXTRAS,
    PROVIDER,
    READERS,
    WRITERS,
    activate,
    call,
    forget_names,
)
from slack_world import GENERAL, GRACE, ME, slack_error, ts

from multichat.runtime import provider_auth
from multichat.runtime.untrusted import unmark_untrusted


def copy_of(workspace: Path, tmp_path: Path, **settings: Any) -> Path:
    """A copy of ``workspace`` with provider settings changed, made the active one."""
    target = tmp_path / "copy"
    shutil.copytree(workspace, target)
    config = target / "provider-config.yaml"
    yaml = YAML()
    document = yaml.load(config.read_text(encoding="utf-8"))
    for key, value in settings.items():
        document["providers"][PROVIDER][key] = value
    with config.open("w", encoding="utf-8") as handle:
        yaml.dump(document, handle)
    activate(target)
    return target


async def names(workspace: Path) -> set[str]:
    async with connect(workspace) as client:
        return {tool.name.removeprefix(f"{PROVIDER}_") for tool in await client.list_tools()}


# ---- bot tokens --------------------------------------------------------------------------------


async def test_a_bot_token_serves_every_tool_but_search_and_mentions(
    slack_workspace, slack, monkeypatch
):
    fake, world = slack
    monkeypatch.setenv("MULTICHAT_SLACK_TOKEN", BOT_TOKEN)
    activate(slack_workspace)
    bot = {
        **world.auth_test(None),
        "user": "deploybot",
        "user_id": "U0DEPLOY01",
        "bot_id": "B0DEPLOY01",
    }
    fake.on("auth_test", bot)
    async with connect(slack_workspace) as client:
        listed = {tool.name.removeprefix(f"{PROVIDER}_") for tool in await client.list_tools()}
        info = await call(client, "provider_info")
        me = await call(client, "whoami")
        history = await call(client, "get_channel_history", channel_id=GENERAL, limit=1)

    assert listed == (READERS | WRITERS | EXTRAS) - {"search_messages", "get_my_mentions"}
    assert set(info["unavailable_tools"]) == {"search_messages", "get_my_mentions"}
    assert "user token (xoxp-)" in info["unavailable_tools"]["search_messages"]
    assert (me["id"], me["is_bot"]) == ("U0DEPLOY01", True)
    assert len(history["messages"]) == 1
    assert fake.calls("auth_test")[0].headers["authorization"] == f"Bearer {BOT_TOKEN}"


@pytest.mark.parametrize(
    ("stored", "absent"),
    [
        ("xoxe.xoxb-1-rotating-bot", {"search_messages", "get_my_mentions"}),
        ("xoxb-1-bot", {"search_messages", "get_my_mentions"}),
        ("xoxe.xoxp-1-rotating-user", set()),
    ],
)
async def test_the_token_kind_is_read_from_the_token_file_without_a_request(
    slack_workspace, slack, tmp_path, stored, absent
):
    fake, _ = slack
    workspace = copy_of(slack_workspace, tmp_path)
    provider_auth(PROVIDER).save_credentials({"access_token": stored, "token_type": "bearer"})

    listed = await names(workspace)

    assert listed == (READERS | WRITERS | EXTRAS) - absent
    assert fake.requests == []


async def test_a_search_refused_for_the_token_type_says_why(client, slack):
    fake, _ = slack
    fake.on("search_messages", slack_error("not_allowed_token_type"))
    with pytest.raises(ToolError) as refused:
        await call(client, "search_messages", query="deploy")

    assert str(refused.value) == (
        "slack: Slack refused search.messages: not_allowed_token_type (this method does not take "
        "this kind of token (search needs a user token, xoxp-))"
    )


# ---- read_only ---------------------------------------------------------------------------------


async def test_read_only_hides_every_writer_and_mark_read(
    slack_workspace, slack, tmp_path, monkeypatch
):
    monkeypatch.setenv("MULTICHAT_SLACK_TOKEN", "xoxp-1-user-token")
    workspace = copy_of(slack_workspace, tmp_path, read_only=True)
    async with connect(workspace) as client:
        listed = {tool.name.removeprefix(f"{PROVIDER}_") for tool in await client.list_tools()}
        info = await call(client, "provider_info")
        with pytest.raises(ToolError, match="Unknown tool"):
            await call(client, "send_message", channel_id=GENERAL, text="x")

    assert listed == READERS | {"provider_info", "whoami"}
    assert info["read_only"] is True


# ---- token rotation ----------------------------------------------------------------------------


def expired_rotating_token() -> dict[str, Any]:
    """A token as Slack's token rotation leaves it after 12 hours: expired, refreshable.

    https://docs.slack.dev/authentication/using-token-rotation: access tokens ``xoxe.xoxp-``
    expire after 43,200 seconds; the refresh token (``xoxe-1-``) is replaced on every use.
    """
    return {
        "access_token": "xoxe.xoxp-1-expired",
        "token_type": "user",
        "refresh_token": "xoxe-1-first",
        "expires_at": time.time() - 60,
    }


async def test_an_expired_rotating_token_is_refreshed_once_and_the_call_goes_through(
    slack_workspace, slack, slack_server, tmp_path, monkeypatch
):
    fake, _ = slack
    _, switch = slack_server
    monkeypatch.setenv("MULTICHAT_SLACK_CLIENT_ID", "1234567890.0987654321")
    workspace = copy_of(slack_workspace, tmp_path)
    provider_auth(PROVIDER).save_credentials(expired_rotating_token())
    # The refresh answer of https://docs.slack.dev/authentication/using-token-rotation
    # ("Refreshing a token"): a new access token and a new refresh token, at the top level.
    switch.tokens.answer = {
        "ok": True,
        "access_token": "xoxe.xoxp-1-fresh",
        "token_type": "user",
        "expires_in": 43_200,
        "refresh_token": "xoxe-1-second",
        "scope": "channels:read,chat:write",
        "user_id": ME,
        "team": {"id": "T0TEAM0001", "name": "Subarachnoid"},
    }
    async with connect(workspace) as client:
        channels = await call(client, "list_channels")
        again = await call(client, "list_channels")

    assert len(channels["channels"]) == len(again["channels"]) == 6
    [refresh] = switch.tokens.requests
    assert (refresh["grant_type"], refresh["refresh_token"]) == ("refresh_token", "xoxe-1-first")
    assert refresh["client_id"] == "1234567890.0987654321"
    sent = {r.headers["authorization"] for r in fake.calls("conversations_list")}
    assert sent == {"Bearer xoxe.xoxp-1-fresh"}
    stored = json.loads((workspace / "src/providers/slack/token.json").read_text())
    assert (stored["access_token"], stored["refresh_token"]) == (
        "xoxe.xoxp-1-fresh",
        "xoxe-1-second",
    )


async def test_a_refused_refresh_names_the_command_that_signs_in_again(
    slack_workspace, slack, slack_server, tmp_path, monkeypatch
):
    _, switch = slack_server
    monkeypatch.setenv("MULTICHAT_SLACK_CLIENT_ID", "1234567890.0987654321")
    workspace = copy_of(slack_workspace, tmp_path)
    provider_auth(PROVIDER).save_credentials(expired_rotating_token())
    switch.tokens.answer = {"ok": False, "error": "invalid_refresh_token"}
    async with connect(workspace) as client:
        with pytest.raises(ToolError) as refused:
            await call(client, "list_channels")

    assert "multichat auth slack" in str(refused.value)


async def test_a_revoked_token_in_the_file_names_the_command(slack_workspace, slack, tmp_path):
    fake, _ = slack
    workspace = copy_of(slack_workspace, tmp_path)
    provider_auth(PROVIDER).save_credentials({"access_token": "xoxp-1-revoked"})
    fake.on("conversations_history", slack_error("token_revoked"))
    async with connect(workspace) as client:
        with pytest.raises(ToolError) as refused:
            await call(client, "get_channel_history", channel_id=GENERAL)

    assert "run `multichat auth slack`" in str(refused.value)
    assert "token_revoked" in str(refused.value)


# ---- names -------------------------------------------------------------------------------------


async def test_names_that_cannot_be_looked_up_leave_ids_and_the_tool_still_answers(client, slack):
    fake, _ = slack
    forget_names()
    fake.on(
        "users_info", slack_error("missing_scope", needed="users:read", provided="channels:history")
    )
    page = await call(client, "get_channel_history", channel_id=GENERAL, limit=4)

    mention = next(m for m in page["messages"] if m["id"] == f"{GENERAL}:{ts(7)}")
    assert mention["author"] == "U0LINUS001"
    assert unmark_untrusted(mention["text"]) == "@U0ADA00001 review please: *small* change"


async def test_names_are_looked_up_once_per_process(client, slack):
    fake, _ = slack
    forget_names()
    await call(client, "get_channel_history", channel_id=GENERAL)
    first = len(fake.calls("users_info"))
    await call(client, "get_channel_history", channel_id=GENERAL)
    await call(client, "get_thread", message_id=f"{GENERAL}:{ts(3)}")

    assert first >= 3
    assert len(fake.calls("users_info")) == first
    assert {r.arguments["user"] for r in fake.calls("users_info")} >= {GRACE, ME}
