"""What the Slack test modules share besides fixtures: names, tokens, and small helpers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from multichat.runtime import load_config
from multichat.runtime.loader import activate_workspace
from multichat.runtime.token_access import reset_provider_auth

PROVIDER = "slack"
USER_TOKEN = "xoxp-1-user-token"
BOT_TOKEN = "xoxb-1-bot-token"
READERS = {
    "list_channels",
    "get_channel_history",
    "get_thread",
    "search_messages",
    "list_users",
    "get_my_mentions",
    "catch_up",
}
WRITERS = {"send_message", "reply_to_thread", "edit_message", "delete_message", "add_reaction"}
EXTRAS = {"mark_read", "provider_info", "whoami"}


def point_at(workspace: Path, url: str) -> None:
    """Aim the provider's API and token endpoint at ``url`` (the fake) instead of slack.com."""
    config = workspace / "provider-config.yaml"
    text = config.read_text(encoding="utf-8").replace("https://slack.com", url)
    config.write_text(text, encoding="utf-8")


def activate(workspace: Path) -> None:
    """Make ``workspace`` the one this process serves, with no token remembered."""
    activate_workspace(load_config(workspace / "provider-config.yaml"))
    reset_provider_auth()


async def call(client: Any, tool: str, **arguments: Any) -> Any:
    """Call ``slack_<tool>`` and return its structured result."""
    result = await client.call_tool(f"{PROVIDER}_{tool}", arguments)
    return result.structured_content


def forget_names() -> None:
    """Empty the served adapter's name cache (it lives as long as the provider's module)."""
    import importlib

    from multichat.platforms.slack_names import SlackNames

    platform = importlib.import_module(f"src.providers.{PROVIDER}.api.platform")
    platform.adapter.names = SlackNames()
