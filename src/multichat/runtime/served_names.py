"""Served names that silently fail: one name for two tools, an ``enabled_tools`` entry for none.

A provider's tools are served as ``NAME_tool``, so ``chat``'s ``provider_info`` and
``chat_provider``'s ``info`` are both ``chat_provider_info``, and a client could reach only one.
The provider first by name keeps the name (it is always the shorter one: the other name starts
with it); the other's tool is left out of what its provider serves, and both are reported.
An ``enabled_tools`` entry that is no tool of its provider serves nothing, so it is reported
with the tool it looks like. A served name there (``alpha_provider_info``) is reported too, not
accepted: one spelling names a tool everywhere in the config, and the hint gives it.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass

from multichat.runtime.loader import LoadedProvider, LoadReport
from multichat.runtime.toolsets import served_tools

#: How many of a provider's tools an ``enabled_tools`` warning lists when none looks alike.
_LISTED_TOOLS = 10


@dataclass(frozen=True)
class NameCollision:
    """Two providers' tools served as ``served``: ``kept``'s is served, ``dropped``'s is not."""

    served: str
    kept: str
    kept_tool: str
    dropped: str
    dropped_tool: str

    @property
    def problem(self) -> str:
        """What collides, and which tool the server serves under the name."""
        return (
            f"{self.served} names both {self.kept}'s tool {self.kept_tool} and "
            f"{self.dropped}'s tool {self.dropped_tool}: only {self.kept}'s is served"
        )

    @property
    def fix(self) -> str:
        """How to give each tool a name of its own."""
        return (
            f"rename one of the tools (@tool(name=...)) or one of the providers {self.kept} "
            f"and {self.dropped}"
        )

    def __str__(self) -> str:
        """The problem and its fix, on one line."""
        return f"{self.problem}; {self.fix}"


@dataclass(frozen=True)
class UnknownEnabledTool:
    """An ``enabled_tools`` entry that is no tool of its provider, so it serves nothing."""

    provider: str
    entry: str
    fix: str

    @property
    def problem(self) -> str:
        """Which entry names nothing."""
        return (
            f"`providers.{self.provider}.enabled_tools` lists `{self.entry}`, which is not a "
            f"tool of {self.provider}: it serves nothing"
        )

    def __str__(self) -> str:
        """The problem and its fix, on one line."""
        return f"{self.problem}; {self.fix}"


def name_collisions(providers: Mapping[str, LoadedProvider]) -> list[NameCollision]:
    """The tools the config serves under a name another provider's tool is served under too."""
    owners: dict[str, tuple[str, str]] = {}
    found: list[NameCollision] = []
    for name in sorted(providers):
        provider = providers[name]
        served = served_tools(provider)
        for tool in sorted(provider.tools):
            if not served.allows(tool):
                continue
            full = f"{name}_{tool}"
            kept, kept_tool = owners.setdefault(full, (name, tool))
            if kept != name:
                found.append(NameCollision(full, kept, kept_tool, name, tool))
    return found


def leave_out_collisions(report: LoadReport) -> None:
    """Record the report's collisions and leave each one's dropped tool out of its provider."""
    report.collisions = name_collisions(report.providers)
    for collision in report.collisions:
        dropped = report.providers[collision.dropped]
        dropped.shadowed = dropped.shadowed | {collision.dropped_tool}


def unknown_enabled_tools(provider: LoadedProvider) -> list[UnknownEnabledTool]:
    """The provider's ``enabled_tools`` entries that name none of its tools, each with a hint."""
    tools = sorted(provider.tools)
    found: list[UnknownEnabledTool] = []
    for entry in provider.config.enabled_tools or ():
        if entry in provider.tools:
            continue
        prefix = f"{provider.name}_"
        short = entry.removeprefix(prefix)
        if short in provider.tools:
            fix = f"write `{short}`: enabled_tools names tools without the `{prefix}` prefix"
        elif close := difflib.get_close_matches(short, tools, n=1):
            fix = f"did you mean `{close[0]}`?"
        elif tools:
            listed = ", ".join(tools[:_LISTED_TOOLS])
            more = f" and {len(tools) - _LISTED_TOOLS} more" if len(tools) > _LISTED_TOOLS else ""
            fix = f"its tools are {listed}{more}"
        else:
            fix = f"{provider.name} registers no tools"
        found.append(UnknownEnabledTool(provider.name, entry, fix))
    return found


def served_name_warnings(report: LoadReport) -> list[str]:
    """One line for each collision and each unknown ``enabled_tools`` entry of ``report``."""
    lines = [str(collision) for collision in report.collisions]
    for _, provider in sorted(report.providers.items()):
        lines += [str(unknown) for unknown in unknown_enabled_tools(provider)]
    return lines
