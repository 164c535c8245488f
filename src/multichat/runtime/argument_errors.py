"""Arguments a tool refuses, told to the model in one line it can act on.

FastMCP answers a call whose arguments fail the tool's signature with pydantic's report: a
header naming an internal ``call[...]`` model, the location and message on lines of their own,
the error type, the input and a documentation URL for each error. The model needs the argument,
what is wrong and the value it sent: ``limit: Input should be greater than or equal to 1
(got 0)``.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import mcp_types
from fastmcp.exceptions import ToolError, ValidationError
from fastmcp.server.middleware import CallNext, Middleware, MiddlewareContext
from fastmcp.tools.base import ToolResult
from pydantic import ValidationError as PydanticValidationError

#: Longest input value repeated in the message; a longer one is cut with "...".
MAX_SHOWN_INPUT = 60


class ReadableArgumentErrors(Middleware):
    """Turn a tool's argument-validation failure into one line per argument."""

    async def on_call_tool(
        self,
        context: MiddlewareContext[mcp_types.CallToolRequestParams],
        call_next: CallNext[mcp_types.CallToolRequestParams, ToolResult],
    ) -> ToolResult:
        """The call's result; refused arguments become a ``ToolError`` naming each one."""
        try:
            return await call_next(context)
        except ValidationError as exc:
            cause = exc.__cause__
            if not isinstance(cause, PydanticValidationError):
                raise
            text = argument_errors(context.message.name, cause.errors())
            raise ToolError(text, log_level=logging.INFO) from None


def argument_errors(tool: str, errors: list[Any]) -> str:
    """``invalid arguments for TOOL: ARG: MESSAGE (got VALUE); ...`` from pydantic's errors."""
    parts = []
    for error in errors:
        where = ".".join(str(part) for part in error.get("loc", ()) if part != "args")
        message = str(error.get("msg", "invalid"))
        if error.get("type") == "unexpected_keyword_argument":
            message = "not an argument of this tool"
        elif not str(error.get("type", "")).startswith("missing") and "input" in error:
            message += f" (got {_shown(error['input'])})"
        parts.append(f"{where}: {message}" if where else message)
    return f"invalid arguments for {tool}: " + "; ".join(parts)


def _shown(value: Any) -> str:
    """``value`` as the model sent it (JSON), cut to :data:`MAX_SHOWN_INPUT` characters."""
    shown = json.dumps(value, ensure_ascii=False, default=repr)
    if len(shown) > MAX_SHOWN_INPUT:
        shown = shown[: MAX_SHOWN_INPUT - 3] + "..."
    return shown
