"""The private FastMCP API multichat uses, pinned: a FastMCP upgrade that moves it fails here.

Three modules reach into FastMCP: ``multichat.runtime.stdio`` (to answer JSON-RPC parse errors
over stdio, which FastMCP's own stdio runner drops), ``multichat.runtime.tool_schemas`` (to
give a tool the ``task`` default ``mcp.tool`` gives it) and ``multichat.runtime.namespaces``
(to find a tool by its provider's prefix; its own tests pin the method it overrides);
everything else uses public API.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import fastmcp
from fastmcp import FastMCP

import multichat

#: Each module allowed to touch FastMCP's private attributes, and the ones it touches.
PRIVATE_USERS = {
    "runtime/stdio.py": {"_mcp_server", "_lifespan_manager"},
    "runtime/tool_schemas.py": {"_support_tasks_by_default"},
    "runtime/namespaces.py": {"_get_tool"},
}
PINNED = {
    "_mcp_server",
    "_lifespan_manager",
    "_components",
    "_support_tasks_by_default",
    "_get_tool",
}


def test_the_private_attributes_serve_stdio_uses_exist():
    server = FastMCP("pinned")
    assert callable(server._lifespan_manager)
    assert hasattr(server._mcp_server, "run")
    assert hasattr(server._mcp_server, "create_initialization_options")
    # serve_stdio mirrors FastMCP.run_stdio_async: check it still enters the same two things.
    source = inspect.getsource(FastMCP.run_stdio_async)
    assert "_lifespan_manager" in source
    assert "_mcp_server.run" in source


def test_the_task_default_tool_schemas_reads_is_the_one_mcp_tool_uses():
    assert FastMCP("tasks", tasks=True)._support_tasks_by_default is True
    assert FastMCP("no tasks")._support_tasks_by_default is False
    source = inspect.getsource(FastMCP.tool)
    assert "task if task is not None else self._support_tasks_by_default" in source


def test_no_other_module_touches_fastmcp_privates():
    root = Path(multichat.__file__).parent
    offenders = []
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root).as_posix()
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Attribute)
                and node.attr in PINNED
                and node.attr not in PRIVATE_USERS.get(relative, set())
            ):
                offenders.append(f"{relative}:{node.lineno} .{node.attr}")
    assert offenders == [], offenders
    assert fastmcp.__version__.startswith("4.")
