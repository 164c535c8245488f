"""A call with arguments its tool refuses gets one line naming each argument, what is wrong and
the value sent (runtime/argument_errors.py), not pydantic's multi-line report; the call itself
is not run."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastmcp import Client
from fastmcp.exceptions import ToolError

from multichat.runtime.argument_errors import MAX_SHOWN_INPUT, argument_errors
from multichat.runtime.config import load_config
from multichat.runtime.server import build_server

PAGING_TOOL = '''\
"""A tool with typed, bounded arguments."""

from typing import Annotated

from pydantic import Field

from ..mcp_instance import tool

CALLS: list[int] = []


@tool(read_only=True)
def page(channel: str, limit: Annotated[int, Field(ge=1, le=200)] = 20) -> str:
    """Read a page of ``channel``."""
    CALLS.append(limit)
    return f"{limit} from {channel}"
'''


@pytest.fixture
def server(workspace: Path, add_provider):
    folder = add_provider("alpha")
    (folder / "tools" / "paging.py").write_text(PAGING_TOOL)
    built, report = build_server(load_config(workspace / "provider-config.yaml"))
    assert report.failures == []
    return built


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (
            {"channel": "C1", "limit": 0},
            "invalid arguments for alpha_page: limit: Input should be greater than or equal to 1"
            " (got 0)",
        ),
        (
            {"channel": "C1", "limit": "many"},
            "invalid arguments for alpha_page: limit: Input should be a valid integer, unable to"
            ' parse string as an integer (got "many")',
        ),
        (
            {"channel": None},
            "invalid arguments for alpha_page: channel: Input should be a valid string (got null)",
        ),
        (
            {"channel": "C1", "cursor": "x"},
            "invalid arguments for alpha_page: cursor: not an argument of this tool",
        ),
        (
            {"limit": 300, "chanel": "C1"},
            "invalid arguments for alpha_page: channel: Missing required argument; limit: Input"
            " should be less than or equal to 200 (got 300); chanel: not an argument of this"
            " tool",
        ),
    ],
)
async def test_refused_arguments_are_one_line_for_the_model(
    server, arguments: dict[str, object], expected: str
) -> None:
    async with Client(server) as client:
        with pytest.raises(ToolError) as caught:
            await client.call_tool("alpha_page", arguments)
        answered = await client.call_tool("alpha_page", {"channel": "C1", "limit": 3})

    assert str(caught.value) == expected
    assert answered.content[0].text == "3 from C1"  # good arguments still reach the tool


def test_a_long_value_is_cut() -> None:
    text = argument_errors(
        "t", [{"type": "string_type", "loc": ("q",), "msg": "bad", "input": "x" * 500}]
    )

    shown = text.partition("(got ")[2].rstrip(")")
    assert len(shown) == MAX_SHOWN_INPUT
    assert shown.endswith("...")


@pytest.mark.parametrize("fastmcp_first", [True, False])
def test_fastmcp_s_log_records_are_one_line_each_on_stderr(fastmcp_first: bool) -> None:
    import subprocess
    import sys

    script = (
        ("import fastmcp\n" if fastmcp_first else "")
        + "from multichat.runtime.logs import configure_logging\n"
        "configure_logging('INFO')\n"
        "import fastmcp, logging\n"
        "logging.getLogger('fastmcp.server.server').warning("
        "\"Invalid arguments for tool 'x': %s\", 'y' * 300)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )

    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert " WARNING fastmcp.server.server: Invalid arguments for tool 'x': " in lines[0]
    assert lines[0].endswith("y" * 300)
