"""A chat tool's result goes out exactly as FastMCP would send it, serialised once."""

from __future__ import annotations

import pytest
from fastmcp import Client, FastMCP
from fastmcp.tools.function_tool import FunctionTool

from multichat.chat.models import ChatUser, MessagePage, message
from multichat.chat.tool_results import as_tool_result, returning_tool_results


def page() -> MessagePage:
    texts = ["plain", 'quotes " and \\ slashes', "é ü 日本語 🎉", "<tags> & *markdown*"]
    return MessagePage(
        messages=[
            message(
                id=f"M{number}",
                channel_id="C01",
                channel_name="général",
                author_id="U01",
                author="Ada",
                sent_at="2025-06-06T18:18:41.000Z",
                text=text,
                reactions={"tada": 2} if number else None,
                thread_id="M0" if number == 2 else None,
            )
            for number, text in enumerate(texts)
        ],
        next_cursor=None,
    )


@pytest.mark.parametrize("model", [page(), ChatUser(id="U01", username="ada", name="Ada Lovelace")])
def test_the_result_is_what_fastmcp_makes_of_the_model(model):
    async def produce() -> MessagePage:
        return page()

    produce.__annotations__["return"] = type(model)  # FastMCP serialises by the annotation
    ours = as_tool_result(model).to_mcp_result()
    for schema in (None, ...):  # without and with FastMCP's result schema
        options = {} if schema is ... else {"output_schema": None}
        theirs = FunctionTool.from_function(produce, **options).convert_result(model)
        assert ours == theirs.to_mcp_result()


async def test_a_wrapped_tool_keeps_its_schema_and_answers_the_same():
    async def history(channel_id: str, limit: int = 20) -> MessagePage:
        """Read a channel."""
        return page()

    plain: FastMCP = FastMCP("plain")
    plain.tool(history)
    wrapped: FastMCP = FastMCP("wrapped")
    wrapped.tool(returning_tool_results(history))
    answers = []
    for server in (plain, wrapped):
        async with Client(server) as client:
            (listed,) = await client.list_tools()
            result = await client.call_tool("history", {"channel_id": "C01"})
            answers.append((listed, result.content, result.structured_content))
    assert answers[0] == answers[1]
    assert answers[1][2]["messages"][2]["text"].endswith("<</untrusted-chat-message>>")
