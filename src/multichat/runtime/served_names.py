"""Served names that silently fail: one name for two tools.

A provider's tools are served as ``NAME_tool``, so ``chat``'s ``provider_info`` and
``chat_provider``'s ``info`` are both ``chat_provider_info``, and a client could reach only one.
The provider first by name keeps the name (it is always the shorter one: the other name starts
with it); the other's tool is left out of what its provider serves, and both are reported.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from multichat.runtime.loader import LoadedProvider, LoadReport
from multichat.runtime.toolsets import served_tools


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


def served_name_warnings(report: LoadReport) -> list[str]:
    """One line for each collision of ``report``."""
    return [str(collision) for collision in report.collisions]
