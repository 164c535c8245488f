"""The private FastMCP API multichat uses, pinned: a FastMCP upgrade that moves it fails here.

Only ``multichat.runtime.stdio`` reaches into FastMCP (to answer JSON-RPC parse errors over
stdio, which FastMCP's own stdio runner drops); everything else uses public API.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import fastmcp
from fastmcp import FastMCP

import multichat

PRIVATE_USERS = {"runtime/stdio.py"}


def test_the_private_attributes_serve_stdio_uses_exist():
    server = FastMCP("pinned")
    assert callable(server._lifespan_manager)
    assert hasattr(server._mcp_server, "run")
    assert hasattr(server._mcp_server, "create_initialization_options")
    # serve_stdio mirrors FastMCP.run_stdio_async: check it still enters the same two things.
    source = inspect.getsource(FastMCP.run_stdio_async)
    assert "_lifespan_manager" in source
    assert "_mcp_server.run" in source


def test_no_other_module_touches_fastmcp_privates():
    root = Path(multichat.__file__).parent
    offenders = []
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root).as_posix()
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Attribute)
                and node.attr in {"_mcp_server", "_lifespan_manager", "_components"}
                and relative not in PRIVATE_USERS
            ):
                offenders.append(f"{relative}:{node.lineno} .{node.attr}")
    assert offenders == [], offenders
    assert fastmcp.__version__.startswith("4.")
