"""Workspaces, bare servers and sandbox set-ups the benchmarks measure."""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

BIN = Path(sys.executable).parent
MULTICHAT = str(BIN / "multichat")
FASTMCP = str(BIN / "fastmcp")
COPIER = str(BIN / "copier")
REPO = Path(__file__).resolve().parent.parent

ECHO_TOOL = '''"""A tool with a trivial body, so a benchmark measures the server, not the tool."""

from ..mcp_instance import tool


@tool(read_only=True)
def echo(text: str) -> str:
    """Return ``text`` unchanged."""
    return text
'''

BARE_SERVER = '''
from fastmcp import FastMCP

mcp = FastMCP("bare", instructions="a bare FastMCP server with the same tools")


@mcp.tool
def provider_info() -> dict:
    """Describe the provider."""
    return {"provider": "alpha", "authenticated": False}


@mcp.tool
async def whoami() -> dict:
    """Who is signed in."""
    return {}


@mcp.tool
def echo(text: str) -> str:
    """Return text unchanged."""
    return text


if __name__ == "__main__":
    mcp.run(transport="stdio", show_banner=False)
'''


def scratch(prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=f"multichat-bench-{prefix}-"))


def workspace(folder: Path, providers: list[str], preset: str = "blank", **data: object) -> Path:
    """A workspace with ``providers`` generated in-process (the CLI is measured elsewhere)."""
    from multichat.generator.provider import add_provider
    from multichat.generator.workspace import create_workspace

    create_workspace(folder)
    for name in providers:
        add_provider(
            name, config_path=folder / "provider-config.yaml", preset=preset, data=dict(data)
        )
    return folder


def add_echo_tool(folder: Path, provider: str) -> None:
    (folder / "src" / "providers" / provider / "tools" / "echo.py").write_text(ECHO_TOOL)


def clone_provider(folder: Path, source: str, copies: int) -> list[str]:
    """Copy provider ``source`` into ``copies`` more (renamed), entries appended to the config."""
    config = folder / "provider-config.yaml"
    text = config.read_text()
    start = text.index(f"  {source}:\n")
    entry = text[start:]
    names = []
    for number in range(copies):
        name = f"{source}{number:02d}"
        names.append(name)
        target = folder / "src" / "providers" / name
        shutil.copytree(
            folder / "src" / "providers" / source,
            target,
            ignore=shutil.ignore_patterns("__pycache__", "token.json*"),
        )
        for module in target.rglob("*.py"):
            module.write_text(module.read_text().replace(f'"{source}"', f'"{name}"'))
        port = 9000 + number
        text += (
            entry.replace(f"  {source}:\n", f"  {name}:\n", 1)
            .replace(f"providers/{source}/", f"providers/{name}/")
            .replace("port: 8000", f"port: {port}")
            .replace(":8000/", f":{port}/")
        )
    config.write_text(text)
    return names


def bare_server(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "bare_server.py"
    script.write_text(BARE_SERVER)
    return script


def staged_template(folder: Path) -> Path:
    """The template outside git, as plain Copier renders it without cloning."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy2(REPO / "copier.yml", folder / "copier.yml")
    shutil.copytree(
        REPO / "template", folder / "template", ignore=shutil.ignore_patterns("__pycache__")
    )
    return folder
