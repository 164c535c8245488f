"""Toolsets: a provider's tools in named groups, chosen in config or enabled by a client.

``read`` is every tool the registry knows as read-only, ``write`` every other tool (a tool
added without the registry counts as writing), ``all`` both. The ``toolsets`` key of a provider
narrows what it serves together with ``read_only`` and ``enabled_tools``: a tool is served only
when every one of them lets it through. In dynamic mode (dynamic.py) a client enables toolsets
one at a time, within what the config serves.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from fastmcp.server.transforms import GetToolNext, Transform

from multichat.runtime.loader import LoadedProvider

if TYPE_CHECKING:
    from fastmcp.tools.base import Tool
    from fastmcp.utilities.versions import VersionSpec

Toolset = Literal["read", "write", "all"]
TOOLSETS: tuple[Toolset, ...] = ("read", "write", "all")


@dataclass(frozen=True)
class ServedTools:
    """Which of a provider's tools its config serves (public names, without the namespace).

    ``only`` is ``None`` when nothing restricts the tools to a named set; ``hidden`` names tools
    left out even so.
    """

    only: frozenset[str] | None = None
    hidden: frozenset[str] = field(default_factory=frozenset)

    def allows(self, tool: str) -> bool:
        """Whether the config serves ``tool``."""
        return tool not in self.hidden and (self.only is None or tool in self.only)


class ServedOnly(Transform):
    """A provider's component store without the tools its config does not serve.

    They are absent, not marked hidden as FastMCP's ``Visibility`` marks them: a client's
    session cannot enable one again, and a served name another provider's hidden tool also
    has finds the served tool, whichever provider the lookup asks first.
    """

    def __init__(self, served: ServedTools) -> None:
        self.served = served

    def __repr__(self) -> str:
        return f"ServedOnly({self.served!r})"

    async def list_tools(self, tools: Sequence[Tool]) -> Sequence[Tool]:
        """The served ones of ``tools``."""
        return [tool for tool in tools if self.served.allows(tool.name)]

    async def get_tool(
        self, name: str, call_next: GetToolNext, *, version: VersionSpec | None = None
    ) -> Tool | None:
        """The tool ``name`` if the config serves it, else ``None`` (not asked for at all)."""
        if not self.served.allows(name):
            return None
        return await call_next(name, version=version)


def read_tools(provider: LoadedProvider) -> frozenset[str]:
    """The provider's tools the registry knows as read-only."""
    return frozenset(name for name, record in provider.tools.items() if record.read_only)


def served_tools(provider: LoadedProvider) -> ServedTools:
    """What ``read_only``, ``enabled_tools`` and ``toolsets`` let through, together.

    A tool another provider's tool is served as instead (``shadowed``) is never let through.
    """
    readers = read_tools(provider)
    chosen = set(provider.config.toolsets or ("all",))
    writers_wanted = bool(chosen & {"all", "write"})
    readers_wanted = bool(chosen & {"all", "read"})
    only: set[str] | None = None
    hidden = provider.shadowed
    if provider.config.read_only or not writers_wanted:
        only = set(readers)
    elif not readers_wanted:
        hidden = hidden | readers
    enabled = provider.config.enabled_tools
    if enabled is not None:
        only = set(enabled) if only is None else only & set(enabled)
    return ServedTools(frozenset(only) if only is not None else None, hidden)


def toolset_members(provider: LoadedProvider, toolset: Toolset, tools: Iterable[str]) -> list[str]:
    """Of ``tools`` (the provider's public tool names), those in ``toolset`` that are served."""
    served = served_tools(provider)
    readers = read_tools(provider)
    return sorted(
        name
        for name in tools
        if served.allows(name) and (toolset == "all" or (name in readers) == (toolset == "read"))
    )
