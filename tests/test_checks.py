"""``multichat doctor``'s checks, in process: findings about the names the server serves."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from helpers import CHAT_PROVIDER_INFO

from multichat.checks import check_workspace
from multichat.runtime.config import load_config


def findings_of(workspace: Path, provider: str, level: str) -> list[str]:
    config = load_config(workspace / "provider-config.yaml")
    return [
        finding.line()
        for finding in check_workspace(config)
        if (finding.provider, finding.level) == (provider, level)
    ]


def test_a_tool_served_under_another_providers_tools_name_is_an_error(
    workspace: Path, add_provider: Callable[..., Path]
) -> None:
    add_provider("chat")
    folder = add_provider("chat_provider")
    (folder / "tools" / "info.py").write_text(CHAT_PROVIDER_INFO)

    [error] = findings_of(workspace, "chat_provider", "error")

    assert error == (
        "chat_provider: error: chat_provider_info names both chat's tool provider_info and "
        "chat_provider's tool info: only chat's is served; fix: rename one of the tools "
        "(@tool(name=...)) or one of the providers chat and chat_provider"
    )
    assert findings_of(workspace, "chat", "error") == []
    assert findings_of(workspace, "chat", "ok") != []
    assert findings_of(workspace, "chat_provider", "ok") == []


def test_an_enabled_tools_entry_that_names_no_tool_is_a_warning(
    workspace: Path, add_provider: Callable[..., Path]
) -> None:
    from helpers import set_provider_keys

    add_provider("alpha")
    set_provider_keys(workspace, "alpha", enabled_tools=["provider_inf", "alpha_whoami"])

    warnings = findings_of(workspace, "alpha", "warning")

    assert (
        "alpha: warning: `providers.alpha.enabled_tools` lists `provider_inf`, which is not a "
        "tool of alpha: it serves nothing; fix: did you mean `provider_info`?"
    ) in warnings
    assert (
        "alpha: warning: `providers.alpha.enabled_tools` lists `alpha_whoami`, which is not a "
        "tool of alpha: it serves nothing; fix: write `whoami`: enabled_tools names tools "
        "without the `alpha_` prefix"
    ) in warnings
    assert findings_of(workspace, "alpha", "error") == []
