"""`multichat doctor`: one line per finding, non-zero exit when a provider is broken."""

import os

import pytest
from e2e_support import write_guide_provider
from helpers import run_cli

pytestmark = pytest.mark.e2e


def _lines(result, provider, level):
    return [line for line in result.stdout.splitlines() if line.startswith(f"{provider}: {level}")]


def test_healthy_providers_exit_0(copy_workspace):
    ws = copy_workspace()
    write_guide_provider(ws)

    result = run_cli("doctor", cwd=ws)

    assert result.returncode == 0, (result.stdout, result.stderr)
    for provider in ("alpha", "beta", "chatplatform"):
        assert len(_lines(result, provider, "ok")) == 1, result.stdout
        assert _lines(result, provider, "error") == [], result.stdout
    assert "3 provider(s): 0 error(s)" in result.stdout
    assert "Traceback" not in result.stderr


def test_guide_description_keyword_points_at_instructions(copy_workspace):
    ws = copy_workspace()
    folder = write_guide_provider(ws, keyword="description")
    source = (folder / "mcp_instance.py").read_text().splitlines()
    lineno = next(i for i, line in enumerate(source, 1) if "description=description" in line)

    result = run_cli("doctor", cwd=ws)

    assert result.returncode != 0, result.stdout
    errors = _lines(result, "chatplatform", "error")
    assert any(
        "instructions=" in line and f"mcp_instance.py:{lineno}" in line for line in errors
    ), result.stdout
    assert len(_lines(result, "alpha", "ok")) == 1
    assert len(_lines(result, "beta", "ok")) == 1
    assert "Traceback" not in result.stderr


def test_token_readable_by_others_needs_chmod_600(copy_workspace):
    ws = copy_workspace()
    token = ws / "src/providers/alpha/token.json"
    token.write_text('{"access_token": "not-a-real-token", "token_type": "Bearer"}\n')
    os.chmod(token, 0o644)

    result = run_cli("doctor", cwd=ws)

    assert result.returncode != 0, result.stdout
    errors = _lines(result, "alpha", "error")
    assert any(f"chmod 600 {token}" in line for line in errors), result.stdout
    assert "not-a-real-token" not in result.stdout + result.stderr
    assert len(_lines(result, "beta", "ok")) == 1


def test_private_token_is_fine(copy_workspace):
    ws = copy_workspace()
    token = ws / "src/providers/alpha/token.json"
    token.write_text('{"access_token": "not-a-real-token", "token_type": "Bearer"}\n')
    os.chmod(token, 0o600)

    result = run_cli("doctor", cwd=ws)

    assert result.returncode == 0, result.stdout
    assert "chmod" not in result.stdout
    assert len(_lines(result, "alpha", "ok")) == 1


def test_each_provider_line_counts_its_served_tools_and_their_bytes(copy_workspace):
    """doctor's figure is the bytes a client's tools/list carries for the provider."""
    import asyncio
    import json

    from helpers import connect, set_provider_keys

    ws = copy_workspace()
    set_provider_keys(ws, "beta", enabled_tools=["whoami"])

    async def listed() -> dict[str, list[dict]]:
        async with connect(ws) as client:
            result = await client.session.list_tools()
        tools = [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in result.tools]
        return {p: [t for t in tools if t["name"].startswith(f"{p}_")] for p in ("alpha", "beta")}

    served = asyncio.run(listed())
    result = run_cli("doctor", cwd=ws)

    for provider, tools in served.items():
        size = len(json.dumps(tools, separators=(",", ":")).encode())
        (line,) = _lines(result, provider, "ok")
        assert f"{len(tools)} tool(s) served, {size:,} bytes of tools/list" in line, line
    assert len(served["beta"]) == 1
