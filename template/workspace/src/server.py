"""The guide's entry point: ``python -m src.server --provider NAME [--local-auth]``.

The work is done by multichat's runtime; ``multichat run`` is the same server. FastMCP's own
CLI finds it through ``fastmcp.json`` (``fastmcp inspect fastmcp.json``): ``create_server``.
"""

from typing import Any

from multichat.runtime import guide_server_main as main
from multichat.runtime import workspace_server


def create_server() -> Any:
    """The workspace's MCP server, every provider served as ``multichat run`` serves them."""
    return workspace_server(__file__)


if __name__ == "__main__":
    raise SystemExit(main())
