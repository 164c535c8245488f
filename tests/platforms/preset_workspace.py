"""Workspaces for the token presets' tests: one provider generated from a preset, signed in.

Imported as ``platforms.preset_workspace`` by tests/platforms/{mattermost,zulip}/.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from fastmcp import Client
from helpers import free_port, generated_workspace, run_module

from multichat.runtime import load_config, provider_auth
from multichat.runtime.loader import activate_workspace
from multichat.runtime.token_access import reset_provider_auth


def generate(folder: Path, name: str, preset: str, server_url: str) -> Path:
    """A fresh workspace in ``folder`` with provider ``name`` of ``preset`` at ``server_url``."""
    return generated_workspace(
        folder, name, preset, {"server_url": server_url, "port": free_port()}
    )


def sign_in(workspace: Path, name: str, credentials: dict[str, Any]) -> None:
    """Store ``credentials`` as the provider's token (the 0600 file ``multichat auth`` writes)."""
    activate_workspace(load_config(workspace / "provider-config.yaml"))
    reset_provider_auth()
    provider_auth(name).save_credentials(credentials)


def copy_workspace(workspace: Path, target: Path) -> Path:
    """A copy of ``workspace`` to change (its config, its token) without touching the original."""
    shutil.copytree(workspace, target)
    return target


async def call(client: Client[Any], provider: str, tool: str, **arguments: Any) -> Any:
    """Call ``provider``'s ``tool``; its structured result."""
    result = await client.call_tool(f"{provider}_{tool}", arguments)
    return result.structured_content


async def page_through(
    client: Client[Any], provider: str, tool: str, items: str, *, pages: int = 30, **arguments: Any
) -> list[list[Any]]:
    """Every page of a paged tool (at most ``pages``), each page's ``items``."""
    found: list[list[Any]] = []
    cursor = None
    for _ in range(pages):
        page = await call(client, provider, tool, **arguments, cursor=cursor)
        found.append(page[items])
        cursor = page["next_cursor"]
        if cursor is None:
            return found
    raise AssertionError(f"{tool} gave more than {pages} pages")


def run_tool(workspace: Path, *args: str) -> tuple[int, str]:
    """``python -m ARGS`` in ``workspace`` without the test run's environment; code and output."""
    done = run_module(*args, cwd=workspace)
    return done.returncode, done.stdout + done.stderr


def check_lint_and_own_tests(workspace: Path, name: str) -> None:
    """The generated workspace passes ruff, and provider ``name`` its own generated tests."""
    code, output = run_tool(workspace, "ruff", "check", "--no-cache", ".")
    assert code == 0, output
    code, output = run_tool(
        workspace, "pytest", "-v", "-p", "no:cacheprovider", f"tests/providers/{name}"
    )
    assert code == 0, output
    test_file = f"tests/providers/{name}/test_{name}_provider.py"
    for test in ("test_whoami_before_sign_in_names_the_fix", "test_read_only_hides_every_writer"):
        assert f"{test_file}::{test} PASSED" in output, output


def check_mypy_strict(workspace: Path, name: str, cache: Path | None) -> None:
    """The generated provider ``name`` passes ``mypy --strict``."""
    args = ["mypy", "--strict", "--no-error-summary", f"src/providers/{name}"]
    if cache is not None:
        args[1:1] = ["--cache-dir", str(cache)]
    code, output = run_tool(workspace, *args)
    assert code == 0, output
