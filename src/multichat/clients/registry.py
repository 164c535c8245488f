"""The clients ``multichat install`` knows: where each keeps its MCP servers, and in what form.

One row per client. ``fastmcp install`` (FastMCP 4, ``fastmcp/cli/install/``) was the starting
point; each row was then checked against the client's own documentation, cited beside it.
Where FastMCP runs the client's CLI (``claude mcp add``, ``gemini mcp add``) or opens a deep
link (Cursor, Goose), multichat writes the documented file itself: that works without the
client's binary, and the same plan gives ``--dry-run`` its diff.

Scope: files of the app itself live under ``home`` (Claude Desktop, Gemini CLI, Goose); editor
clients get the project file in ``cwd`` (Claude Code's ``.mcp.json``, ``.cursor/mcp.json``,
``.vscode/mcp.json``), the one each documents for sharing a project's servers. Claude Code's
user scope is ``~/.claude.json``, a large state file that the running Claude Code rewrites
itself, so writing it from outside could lose either side's change; its project file is small
and meant to be edited (Claude Code asks the user to approve its servers on first use).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from multichat.clients.entry import ServerEntry
from multichat.clients.errors import ClientError, UnknownClient
from multichat.clients.jsonc import JSON_WITH_COMMENTS, JSONC, PLAIN_JSON, Dialect
from multichat.clients.render import Rendered, goose_entry, standard_entry, vscode_entry


@dataclass(frozen=True)
class Places:
    """Where to look: the user's home, the project folder, the OS and its environment."""

    home: Path
    cwd: Path
    platform: Literal["linux", "darwin", "other"]
    environ: Mapping[str, str] = field(default_factory=dict)

    @property
    def config_home(self) -> Path:
        """``$XDG_CONFIG_HOME`` when set to an absolute path, else ``~/.config`` (XDG spec)."""
        value = self.environ.get("XDG_CONFIG_HOME", "")
        return Path(value) if value.startswith("/") else self.home / ".config"


def normalize_platform(platform: str) -> Literal["linux", "darwin", "other"]:
    """``sys.platform``'s value as one of the platforms the locations distinguish."""
    if platform.startswith("linux"):
        return "linux"
    return "darwin" if platform == "darwin" else "other"


@dataclass(frozen=True)
class Client:
    """One client: its name on the command line, its file, its format and its entry shape."""

    name: str
    title: str
    docs: str
    #: The client's file; ``None`` for mcp-json, which only prints the entry.
    locate: Callable[[Places], Path] | None
    #: The syntax of the file; ``None`` for YAML (Goose) and for printing.
    dialect: Dialect | None
    servers_key: str
    render: Callable[[ServerEntry], Rendered]
    #: The folder the client creates on its first run must exist (an app-level file).
    needs_folder: bool = False
    project_file: bool = False


def _claude_desktop_file(places: Places) -> Path:
    # macOS (and Windows) from the MCP guide linked in the row below. Claude Desktop has no
    # Linux build from Anthropic; community builds are Electron apps whose appData folder is
    # $XDG_CONFIG_HOME or ~/.config, which is also where fastmcp install looks.
    if places.platform == "darwin":
        return places.home / "Library/Application Support/Claude/claude_desktop_config.json"
    if places.platform == "linux":
        return places.config_home / "Claude/claude_desktop_config.json"
    raise _unsupported_platform("Claude Desktop")


def _goose_file(places: Places) -> Path:
    # "macOS/Linux: ~/.config/goose/config.yaml" (config-files guide); goose finds it through
    # the XDG rules on both, so $XDG_CONFIG_HOME moves it.
    if places.platform in ("linux", "darwin"):
        return places.config_home / "goose/config.yaml"
    raise _unsupported_platform("Goose")


def _unsupported_platform(title: str) -> ClientError:
    return ClientError(
        f"multichat knows where {title} keeps its settings on Linux and macOS only; print the "
        "entry with `multichat install mcp-json` and add it by hand"
    )


CLIENTS: dict[str, Client] = {
    client.name: client
    for client in (
        Client(
            name="claude-desktop",
            title="Claude Desktop",
            docs="https://modelcontextprotocol.io/docs/develop/connect-local-servers",
            locate=_claude_desktop_file,
            dialect=PLAIN_JSON,
            servers_key="mcpServers",
            render=lambda entry: standard_entry(entry, None, "Claude Desktop"),
            needs_folder=True,
        ),
        Client(
            # .mcp.json, and ${VAR} expansion in its command, args and env:
            # "Environment variable expansion in .mcp.json" on the page below.
            name="claude-code",
            title="Claude Code",
            docs="https://code.claude.com/docs/en/mcp",
            locate=lambda places: places.cwd / ".mcp.json",
            dialect=PLAIN_JSON,
            servers_key="mcpServers",
            render=lambda entry: standard_entry(entry, lambda name: f"${{{name}}}", "Claude Code"),
            project_file=True,
        ),
        Client(
            # Project .cursor/mcp.json (global: ~/.cursor/mcp.json); ${env:NAME} interpolation.
            name="cursor",
            title="Cursor",
            docs="https://cursor.com/docs/context/mcp",
            locate=lambda places: places.cwd / ".cursor/mcp.json",
            dialect=JSONC,
            servers_key="mcpServers",
            render=lambda entry: standard_entry(entry, lambda name: f"${{env:{name}}}", "Cursor"),
            project_file=True,
        ),
        Client(
            # Workspace .vscode/mcp.json: "servers" and "inputs" keys, JSONC.
            name="vscode",
            title="VS Code",
            docs="https://code.visualstudio.com/docs/copilot/reference/mcp-configuration",
            locate=lambda places: places.cwd / ".vscode/mcp.json",
            dialect=JSONC,
            servers_key="servers",
            render=vscode_entry,
            project_file=True,
        ),
        Client(
            # ~/.gemini/settings.json holds every other setting too; it is read with
            # strip-json-comments then JSON.parse, and $VAR / ${VAR} in values are expanded
            # (docs/tools/mcp-server.md and packages/cli/src/config/settings.ts upstream).
            name="gemini-cli",
            title="Gemini CLI",
            docs="https://geminicli.com/docs/tools/mcp-server",
            locate=lambda places: places.home / ".gemini/settings.json",
            dialect=JSON_WITH_COMMENTS,
            servers_key="mcpServers",
            render=lambda entry: standard_entry(entry, lambda name: f"${{{name}}}", "Gemini CLI"),
            needs_folder=True,
        ),
        Client(
            name="goose",
            title="Goose",
            docs="https://block.github.io/goose/docs/guides/config-files",
            locate=_goose_file,
            dialect=None,
            servers_key="extensions",
            render=goose_entry,
            needs_folder=True,
        ),
        Client(
            # The common {"mcpServers": {...}} shape, printed for any other client; ${NAME}
            # marks a variable to fill in (the expansion syntax of Claude Code and Gemini CLI).
            name="mcp-json",
            title="an mcpServers file",
            docs="https://modelcontextprotocol.io/docs/develop/connect-local-servers",
            locate=None,
            dialect=None,
            servers_key="mcpServers",
            render=lambda entry: standard_entry(entry, lambda name: f"${{{name}}}", "mcp-json"),
        ),
    )
}

CLIENT_NAMES: tuple[str, ...] = tuple(CLIENTS)


def get_client(name: str) -> Client:
    """The client called ``name``, or :class:`UnknownClient` listing the choices."""
    try:
        return CLIENTS[name]
    except KeyError:
        raise UnknownClient(
            f"unknown client {name!r}: choose one of {', '.join(CLIENT_NAMES)}"
        ) from None
