"""multichat: add any chat platform to an MCP server in minutes."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("multichat")
except PackageNotFoundError:  # pragma: no cover - running from a bare source tree
    __version__ = "0.0.0"

__all__ = ["__version__"]
