"""The inbox over two Matrix providers on a real Synapse: alice's seeded rooms and the writer's."""

from __future__ import annotations

import pytest
from matrix_support import READER, WRITER, call, mcp

from multichat.runtime.untrusted import NOTICE

pytestmark = pytest.mark.usefixtures("signed_in")


async def test_inbox_catch_up_merges_matrix_and_its_ids_work_with_the_providers_tools(
    matrix_workspace, synapse_seeded
):
    async with mcp(matrix_workspace) as client:
        inbox = await client.call_tool("inbox_catch_up", {"per_channel": 3, "limit": 200})
        answer = inbox.structured_content
        own = await call(client, READER, "catch_up", per_channel=3)
        mention = next(
            m
            for channel in answer["channels"]
            for m in channel["latest"]
            if m["id"].endswith(synapse_seeded.mention.event_id)
        )
        thread = await call(client, READER, "get_thread", message_id=mention["id"])

    assert answer["included"] == [READER, WRITER]
    assert answer["notice"] == NOTICE
    mine = [c for c in answer["channels"] if c["provider"] == READER]
    assert {c["platform"] for c in mine} == {"Matrix"}
    strip = ("provider", "platform")
    assert [{k: v for k, v in c.items() if k not in strip} for c in mine] == own["channels"]
    # The room that mentions alice leads the merged answer too.
    assert (answer["channels"][0]["provider"], answer["channels"][0]["channel_name"]) == (
        READER,
        "general",
    )
    assert thread["root"]["id"] == mention["id"]
