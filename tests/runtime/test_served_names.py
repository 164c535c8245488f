"""Served names that silently fail, found from the providers' registered tools."""

from __future__ import annotations

from fastmcp import FastMCP

from multichat.runtime.config import ProviderConfig
from multichat.runtime.loader import LoadedProvider, LoadReport
from multichat.runtime.registry import ToolRecord
from multichat.runtime.served_names import (
    leave_out_collisions,
    name_collisions,
    served_name_warnings,
)
from multichat.runtime.toolsets import served_tools


def provider(
    name: str, *tools: str, read: tuple[str, ...] = (), **config: object
) -> LoadedProvider:
    records = {
        tool: ToolRecord(name, tool, tool, f"{name}.tools", read_only=tool in read)
        for tool in tools
    }
    return LoadedProvider(name, ProviderConfig(**config), FastMCP(name), records)


def test_the_provider_first_by_name_keeps_a_name_every_other_one_loses_it() -> None:
    providers = {
        p.name: p
        for p in (
            provider("a_b_c", "x", "y"),
            provider("a_b", "c_x", "z"),
            provider("a", "b_c_x", "b_z"),
        )
    }

    found = name_collisions(providers)

    assert [(c.served, c.kept, c.kept_tool, c.dropped, c.dropped_tool) for c in found] == [
        ("a_b_c_x", "a", "b_c_x", "a_b", "c_x"),
        ("a_b_z", "a", "b_z", "a_b", "z"),
        ("a_b_c_x", "a", "b_c_x", "a_b_c", "x"),
    ]


def test_a_tool_the_config_does_not_serve_collides_with_nothing() -> None:
    providers = {
        "a": provider("a", "b_x", read=(), read_only=True),  # b_x writes: not served
        "a_b": provider("a_b", "x"),
    }

    assert name_collisions(providers) == []


def test_the_lost_tool_is_left_out_of_what_its_provider_serves_and_said_once() -> None:
    report = LoadReport(providers={"a": provider("a", "b_x"), "a_b": provider("a_b", "x", "y")})

    leave_out_collisions(report)

    assert report.providers["a_b"].shadowed == {"x"}
    assert not served_tools(report.providers["a_b"]).allows("x")
    assert served_tools(report.providers["a_b"]).allows("y")
    assert served_tools(report.providers["a"]).allows("b_x")
    assert served_name_warnings(report) == [
        "a_b_x names both a's tool b_x and a_b's tool x: only a's is served; rename one of the "
        "tools (@tool(name=...)) or one of the providers a and a_b"
    ]
