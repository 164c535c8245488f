"""multichat: add any chat platform to an MCP server in minutes."""

from multichat._version import __version__

__all__ = ["__version__"]
