"""The central tool registry and the guide's ``tool`` decorator factory.

Every provider tool goes through :func:`tool_decorator_factory`: it registers the function on the
provider's own FastMCP instance and records it here, so the server can filter tools (read-only,
enabled subsets) and ``doctor`` can list them. Each tool gets FastMCP's ``timeout``: the
provider's ``tool_timeout`` (60 s unless configured), so a hung tool ends its call with an error
naming the tool and the limit while the server keeps answering other calls.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar, overload

import anyio.to_thread
from fastmcp import FastMCP
from fastmcp.exceptions import ToolError

from multichat.errors import DuplicateTool, MultichatError
from multichat.runtime.config import DEFAULT_TOOL_TIMEOUT, provider_settings
from multichat.runtime.tool_schemas import add_function_tool

F = TypeVar("F", bound=Callable[..., Any])

_GUIDE_SUFFIX = "_tool"


@dataclass(frozen=True)
class ToolRecord:
    """What the registry knows of one tool."""

    provider: str
    name: str
    function: str
    source: str
    read_only: bool
    annotations: Mapping[str, Any] = field(default_factory=dict)


class ToolDecorator(Protocol):
    """The ``tool`` of ``mcp_instance.py``: ``@tool``, ``@tool()`` or ``@tool(name=...)``."""

    @overload
    def __call__(self, name_or_fn: F, /) -> F: ...

    @overload
    def __call__(
        self,
        name_or_fn: str | None = None,
        /,
        *,
        name: str | None = None,
        description: str | None = None,
        read_only: bool | None = None,
        destructive: bool | None = None,
        idempotent: bool | None = None,
        annotations: Mapping[str, Any] | None = None,
        **options: Any,
    ) -> Callable[[F], F]: ...


_tools: dict[str, dict[str, ToolRecord]] = {}


def public_tool_name(function_name: str) -> str:
    """The name MCP clients see: the guide's ``_tool`` suffix is dropped (``send_message_tool``)."""
    if function_name.endswith(_GUIDE_SUFFIX) and len(function_name) > len(_GUIDE_SUFFIX):
        return function_name[: -len(_GUIDE_SUFFIX)]
    return function_name


def registered_tools(provider: str) -> dict[str, ToolRecord]:
    """The tools a provider has registered so far, by public name."""
    return dict(_tools.get(provider, {}))


def forget_all_tools() -> None:
    """Drop every record: the providers of another workspace are about to be imported."""
    _tools.clear()


def _definition_site(function: Callable[..., Any]) -> str:
    """``file:line`` of a function, from its code object (no source file is read)."""
    code = getattr(inspect.unwrap(function), "__code__", None)
    if code is None:
        return f"{function.__module__}.{function.__qualname__}"
    return f"{code.co_filename}:{code.co_firstlineno}"


def _annotations(
    annotations: Mapping[str, Any] | None,
    read_only: bool | None,
    destructive: bool | None,
    idempotent: bool | None,
) -> dict[str, Any]:
    merged = dict(annotations or {})
    for hint, value in (
        ("readOnlyHint", read_only),
        ("destructiveHint", destructive),
        ("idempotentHint", idempotent),
    ):
        if value is not None:
            merged[hint] = value
    return merged


def _for_the_model(function: F, *, inline: bool = False) -> F:
    """Wrap ``function`` so our own errors reach the client as a ``ToolError`` with their text.

    FastMCP prefixes other exceptions with "Error calling tool" and logs a traceback; a missing
    sign-in is not a crash, and its message already names the command that fixes it. A sync
    function becomes a coroutine that runs it in a worker thread the time-out may abandon:
    FastMCP's own thread waits for the function to return, so a hung one would never time out
    (the abandoned thread runs on; Python cannot stop it). ``inline`` keeps a sync tool sync,
    for the rare tool that must run on the event loop's thread.
    """
    if inspect.iscoroutinefunction(function):

        @functools.wraps(function)
        async def call_async(*args: Any, **kwargs: Any) -> Any:
            try:
                return await function(*args, **kwargs)
            except MultichatError as exc:
                raise ToolError(str(exc), log_level=logging.INFO) from None
            except SystemExit as exc:
                raise _stopped_exit(function, exc) from None

        return call_async  # type: ignore[return-value]

    @functools.wraps(function)
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except MultichatError as exc:
            raise ToolError(str(exc), log_level=logging.INFO) from None
        except SystemExit as exc:
            raise _stopped_exit(function, exc) from None

    if inline:
        return call  # type: ignore[return-value]

    @functools.wraps(function)
    async def call_in_thread(*args: Any, **kwargs: Any) -> Any:
        return await anyio.to_thread.run_sync(
            functools.partial(call, *args, **kwargs), abandon_on_cancel=True
        )

    return call_in_thread  # type: ignore[return-value]


def _stopped_exit(function: Callable[..., Any], stop: SystemExit) -> ToolError:
    """A tool's ``sys.exit()`` as that call's error: it must not stop every provider's server."""
    return ToolError(
        f"{function.__name__} called sys.exit({stop.code!r}); the server kept running, "
        "but this call has no result",
        log_level=logging.WARNING,
    )


def tool_timeout(provider: str) -> float:
    """Seconds a tool of ``provider`` may run: its configured ``tool_timeout``, else 60."""
    settings = provider_settings(provider)
    return settings.tool_timeout if settings is not None else DEFAULT_TOOL_TIMEOUT


def tool_decorator_factory(provider: str, mcp: FastMCP[Any]) -> ToolDecorator:
    """Return the guide's ``tool`` decorator for ``provider``, bound to its FastMCP instance."""

    def tool(
        name_or_fn: Any = None,
        /,
        *,
        name: str | None = None,
        description: str | None = None,
        read_only: bool | None = None,
        destructive: bool | None = None,
        idempotent: bool | None = None,
        annotations: Mapping[str, Any] | None = None,
        **options: Any,
    ) -> Any:
        if isinstance(name_or_fn, str):
            name = name_or_fn
        hints = _annotations(annotations, read_only, destructive, idempotent)

        def register(function: F) -> F:
            tool_name = name or public_tool_name(function.__name__)
            record = ToolRecord(
                provider=provider,
                name=tool_name,
                function=f"{function.__module__}.{function.__qualname__}",
                source=_definition_site(function),
                read_only=bool(hints.get("readOnlyHint", False)),
                annotations=hints,
            )
            provider_tools = _tools.setdefault(provider, {})
            existing = provider_tools.get(tool_name)
            # Same function from the same place is a re-import; a redefinition is a duplicate.
            if existing is not None and (existing.function, existing.source) != (
                record.function,
                record.source,
            ):
                raise DuplicateTool(
                    f"{provider}: two tools are named {tool_name!r}: {existing.source} and "
                    f"{record.source}; rename one (or pass name=...)"
                )
            # run_in_thread=False keeps a sync tool on the event loop, where no time-out can act.
            inline = options.get("run_in_thread") is False and not inspect.iscoroutinefunction(
                function
            )
            timeout = options.get("timeout")
            if timeout is None and not inline:
                timeout = tool_timeout(provider)
            add_function_tool(
                mcp,
                _for_the_model(function, inline=inline),
                name=tool_name,
                description=description,
                annotations=hints or None,
                options={**options, "timeout": timeout},
            )
            provider_tools[tool_name] = record
            return function

        if callable(name_or_fn):
            return register(name_or_fn)
        return register

    return tool
