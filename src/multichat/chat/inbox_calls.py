"""Asking every provider at once through its own tool calls, each within a time budget.

A provider's tool is called on the provider's own FastMCP server (``call_tool``), so its
time-out and error wrapping apply, and any provider serving the chat tools' result shapes takes
part, guide-written ones included. Which providers may be asked (what their config serves) is
decided before (inbox.py); calling past the workspace server keeps the inbox working in dynamic
mode, where a client has not enabled the providers' tools for itself. A provider that fails,
is not signed in or runs past its budget becomes a :class:`NotIncluded` line; the others still
answer.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, MutableMapping, Sequence
from typing import Any, TypeVar

import anyio
from fastmcp.exceptions import FastMCPError, NotFoundError
from fastmcp.tools import ToolResult
from pydantic import ValidationError

from multichat.chat.inbox_merge import Answer
from multichat.chat.inbox_models import NotIncluded

logger = logging.getLogger(__name__)

T = TypeVar("T")
#: Calls one provider's tool: ``(provider, tool, arguments) -> result``.
ToolCall = Callable[[str, str, dict[str, Any]], Awaitable[ToolResult]]

#: Providers asked at once by one inbox call; each provider's client bounds its own requests.
MAX_PROVIDERS_AT_ONCE = 8
#: Longest reason kept from a provider's error: one line, not its whole story.
REASON_LENGTH = 300


async def ask_providers(
    call: ToolCall,
    providers: Sequence[str],
    tool: str,
    arguments: Mapping[str, Any],
    read: Callable[[dict[str, Any]], T],
    *,
    budget: float,
    platforms: MutableMapping[str, str],
) -> tuple[list[Answer[T]], list[NotIncluded]]:
    """Call ``PROVIDER_tool`` on every provider concurrently; read each answer with ``read``.

    ``budget`` is the seconds each provider may take once its turn comes; ``platforms``
    caches each provider's platform name (from its ``provider_info``) across calls.
    """
    answers: dict[str, Answer[T]] = {}
    missing: dict[str, NotIncluded] = {}
    limiter = anyio.CapacityLimiter(MAX_PROVIDERS_AT_ONCE)

    async def ask(provider: str) -> None:
        async with limiter:
            with anyio.move_on_after(budget):
                outcome = await _call(call, provider, tool, arguments, read, platforms)
                if isinstance(outcome, NotIncluded):
                    missing[provider] = outcome
                else:
                    answers[provider] = outcome
                return
            missing[provider] = NotIncluded(
                provider=provider,
                reason=f"no answer within {budget:g} s",
                fix=f"call {provider}_{tool} alone, or give timeout_seconds above {budget:g}",
            )

    async with anyio.create_task_group() as group:
        for provider in providers:
            group.start_soon(ask, provider)
    return [answers[p] for p in sorted(answers)], [missing[p] for p in sorted(missing)]


async def _call(
    call: ToolCall,
    provider: str,
    tool: str,
    arguments: Mapping[str, Any],
    read: Callable[[dict[str, Any]], T],
    platforms: MutableMapping[str, str],
) -> Answer[T] | NotIncluded:
    """One provider's answer, or why there is none."""
    name = f"{provider}_{tool}"
    try:
        platform = await _platform(call, provider, platforms)
        result = await call(provider, tool, dict(arguments))
    except NotFoundError:
        return NotIncluded(
            provider=provider,
            reason=f"{provider} does not serve {tool}",
            fix=f"check providers.{provider}.enabled_tools in provider-config.yaml",
        )
    except FastMCPError as exc:
        return _failed(provider, tool, str(exc))
    except Exception as exc:  # one provider's failure must not fail the whole answer
        logger.warning("inbox: %s failed", name, exc_info=True)
        return _failed(provider, tool, f"{type(exc).__name__}: {exc}")
    try:
        return Answer(provider, platform, read(result.structured_content or {}))
    except ValidationError as exc:
        return NotIncluded(
            provider=provider,
            reason=f"{name} answered in a shape the inbox cannot read: {_one_line(str(exc))}",
            fix=f"make {name} return the chat tools' result model (multichat.chat.models)",
        )


async def _platform(call: ToolCall, provider: str, platforms: MutableMapping[str, str]) -> str:
    """The provider's platform (``Slack``), asked once; its own name when it does not say."""
    if provider not in platforms:
        platform = provider
        try:
            info = await call(provider, "provider_info", {})
        except (FastMCPError, NotFoundError):
            info = None
        if info is not None and isinstance(info.structured_content, dict):
            platform = str(info.structured_content.get("platform") or provider)
        platforms[provider] = platform
    return platforms[provider]


def _failed(provider: str, tool: str, error: str) -> NotIncluded:
    """The line for a failed call; a missing sign-in names ``multichat auth NAME`` as the fix."""
    sign_in = f"multichat auth {provider}"
    # NotAuthenticated, however deep it was raised, reaches us as its text, which names this.
    if f"`{sign_in}`" in error:
        return NotIncluded(provider=provider, reason=_one_line(error), fix=sign_in)
    return NotIncluded(
        provider=provider,
        reason=_one_line(error),
        fix=f"call {provider}_{tool} alone to retry; `multichat doctor` checks the provider",
    )


def _one_line(text: str) -> str:
    """The first line of ``text``, cut to :data:`REASON_LENGTH` characters."""
    line = text.strip().splitlines()[0] if text.strip() else "failed without a message"
    return line if len(line) <= REASON_LENGTH else f"{line[: REASON_LENGTH - 3]}..."
