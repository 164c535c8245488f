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
    unknown_enabled_tools,
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


def hints(entries: list[str], *tools: str) -> list[str]:
    return [
        str(unknown)
        for unknown in unknown_enabled_tools(provider("alpha", *tools, enabled_tools=entries))
    ]


def test_an_enabled_tools_entry_naming_a_tool_is_fine() -> None:
    assert hints(["provider_info", "whoami"], "provider_info", "whoami") == []


def test_a_misspelt_enabled_tools_entry_names_the_tool_it_looks_like() -> None:
    assert hints(["provider_inf"], "provider_info", "whoami") == [
        "`providers.alpha.enabled_tools` lists `provider_inf`, which is not a tool of alpha: it "
        "serves nothing; did you mean `provider_info`?"
    ]


def test_a_served_name_in_enabled_tools_is_told_to_drop_the_prefix() -> None:
    [hint] = hints(["alpha_provider_info"], "provider_info", "whoami")

    assert hint.endswith(
        "; write `provider_info`: enabled_tools names tools without the `alpha_` prefix"
    )


def test_a_tool_named_like_a_served_name_is_the_tool_itself() -> None:
    assert hints(["alpha_x"], "alpha_x", "x") == []


def test_an_entry_like_no_tool_lists_the_providers_tools() -> None:
    many = [f"tool{index:02}" for index in range(12)]

    assert hints(["zzz"], "provider_info", "whoami")[0].endswith(
        "; its tools are provider_info, whoami"
    )
    assert hints(["zzz"], *many)[0].endswith(
        "; its tools are tool00, tool01, tool02, tool03, tool04, tool05, tool06, tool07, tool08, "
        "tool09 and 2 more"
    )
    assert hints(["zzz"])[0].endswith("; alpha registers no tools")


def test_run_warns_of_each_collision_then_each_unknown_entry() -> None:
    report = LoadReport(
        providers={
            "a": provider("a", "b_x", enabled_tools=["b_x", "b_xx"]),
            "a_b": provider("a_b", "x"),
        }
    )
    leave_out_collisions(report)

    warnings = served_name_warnings(report)

    assert [warning.split(":")[0] for warning in warnings] == [
        "a_b_x names both a's tool b_x and a_b's tool x",
        "`providers.a.enabled_tools` lists `b_xx`, which is not a tool of a",
    ]
