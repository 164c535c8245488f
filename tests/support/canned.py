"""Canned platform objects and credentials shaped as each platform's own description requires.

For tests of presets and of the fake platform. Sources: Slack's values are from
slack_web_openapi_v2.json's examples (/conversations.history, /auth.test); Discord's from
https://discord.com/developers/docs/resources/message#message-object-example-message and the
description's required fields (MessageResponse, UserResponse: `primary_guild` is required, may
be null); Mattermost's 26-character ids and PostList from definitions.yaml; Google Chat's
resource names and Message fields from chat.v1.json (schemas Message, User, Thread, Space).
"""

from __future__ import annotations

from typing import Any

SLACK = {"Authorization": "Bearer xoxp-1-test"}
DISCORD_BOT = {"Authorization": "Bot MTk4NjIyNDgzNDcxOTI1MjQ4.test"}
DISCORD_OAUTH = {"Authorization": "Bearer CZhtkLDpNYXgPH9Ml6shqh2OwykChw"}
MATTERMOST = {"Authorization": "Bearer 9xuqwrwgstrb3mzrxb83nb357a"}
GOOGLE = {"Authorization": "Bearer ya29.test"}
JSON_TYPE = {"Content-Type": "application/json"}
FORM_TYPE = {"Content-Type": "application/x-www-form-urlencoded"}

# Ids shaped as each platform's are: Slack's from slack_web_openapi_v2.json examples, Discord's
# from https://discord.com/developers/docs/resources/message#message-object-example-message,
# Mattermost's 26-character ids and Google's resource names from their descriptions.
SLACK_CHANNEL = "C012AB3CD"
SLACK_TS = "1512085950.000216"
DISCORD_CHANNEL = "290926798999357250"
DISCORD_GUILD = "290926798626357250"
DISCORD_MESSAGE = "334385199974967042"
MM_CHANNEL = "4xp9fdt77pncbef59f4k1qe83o"
MM_TEAM = "eo7jb6bmbfn5ik3moe7qk1t1ar"
MM_POST = "7p5iua1fnjgz3moxw7f9kp98oc"


SLACK_MESSAGE: dict[str, Any] = {
    "type": "message",
    "user": "U012AB3CDE",
    "text": "Hello",
    "ts": SLACK_TS,
}
SLACK_HISTORY: dict[str, Any] = {
    "ok": True,
    "messages": [SLACK_MESSAGE],
    "has_more": True,
    "pin_count": 0,
    "channel_actions_ts": None,
    "channel_actions_count": 0,
    "response_metadata": {"next_cursor": "bmV4dF90czoxNTEyMDg1ODYxMDAwNTQz"},
}
DISCORD_USER: dict[str, Any] = {
    "id": "53908232506183680",
    "username": "Mason",
    "avatar": "a_bab14f271d565501444b2ca3be944b25",
    "discriminator": "0",
    "public_flags": 131328,
    "flags": 131328,
    "global_name": "Mason",
    "primary_guild": None,
}
DISCORD_MESSAGE_OBJECT: dict[str, Any] = {
    "id": DISCORD_MESSAGE,
    "channel_id": DISCORD_CHANNEL,
    "author": DISCORD_USER,
    "content": "Supa Hot",
    "timestamp": "2017-07-11T17:27:07.299000+00:00",
    "edited_timestamp": None,
    "tts": False,
    "mention_everyone": False,
    "mentions": [],
    "mention_roles": [],
    "attachments": [],
    "embeds": [],
    "pinned": False,
    "type": 0,
    "flags": 0,
    "components": [],
}
MM_POST_OBJECT: dict[str, Any] = {
    "id": MM_POST,
    "create_at": 1_700_000_000_000,
    "update_at": 1_700_000_000_000,
    "user_id": "xfa8bmbcojfhdxcqdxinh8yppr",
    "channel_id": MM_CHANNEL,
    "root_id": "",
    "message": "Hello",
    "type": "",
    "props": {},
}
GOOGLE_MESSAGE: dict[str, Any] = {
    "name": "spaces/AAAAMpdlehY/messages/BBBBBBBBBBB.BBBBBBBBBBB",
    "sender": {"name": "users/12345678901234567890", "type": "HUMAN"},
    "createTime": "2023-04-21T15:30:00.123456789Z",
    "text": "Hello",
    "thread": {"name": "spaces/AAAAMpdlehY/threads/MZ8fXhZXGkk"},
    "space": {"name": "spaces/AAAAMpdlehY"},
}
