"""What the client tests share: documented file locations, samples and readers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from multichat.clients.jsonc import JSONC, parse


@dataclass(frozen=True)
class Folders:
    """A fake user: home, the project they run the command in, and the multichat workspace."""

    home: Path
    cwd: Path
    workspace: Path


# Where each client's documentation puts its file, relative to home ("~") or to the project
# ("."). Written out here rather than taken from the registry, so a wrong row there fails.
#   Claude Desktop: https://modelcontextprotocol.io/docs/develop/connect-local-servers (macOS);
#     Linux has only community builds, which use Electron's ~/.config/Claude like fastmcp.
#   Claude Code: https://code.claude.com/docs/en/mcp (project scope, .mcp.json)
#   Cursor: https://cursor.com/docs/context/mcp (project .cursor/mcp.json)
#   VS Code: https://code.visualstudio.com/docs/copilot/reference/mcp-configuration
#   Gemini CLI: https://geminicli.com/docs/cli/configuration (~/.gemini/settings.json)
#   Goose: https://block.github.io/goose/docs/guides/config-files (~/.config/goose/config.yaml)
DOCUMENTED_FILES = {
    ("claude-desktop", "darwin"): "~/Library/Application Support/Claude/claude_desktop_config.json",
    ("claude-desktop", "linux"): "~/.config/Claude/claude_desktop_config.json",
    ("claude-code", "darwin"): "./.mcp.json",
    ("claude-code", "linux"): "./.mcp.json",
    ("cursor", "darwin"): "./.cursor/mcp.json",
    ("cursor", "linux"): "./.cursor/mcp.json",
    ("vscode", "darwin"): "./.vscode/mcp.json",
    ("vscode", "linux"): "./.vscode/mcp.json",
    ("gemini-cli", "darwin"): "~/.gemini/settings.json",
    ("gemini-cli", "linux"): "~/.gemini/settings.json",
    ("goose", "darwin"): "~/.config/goose/config.yaml",
    ("goose", "linux"): "~/.config/goose/config.yaml",
}

SERVERS_KEY = {
    "claude-desktop": "mcpServers",
    "claude-code": "mcpServers",
    "cursor": "mcpServers",
    "vscode": "servers",
    "gemini-cli": "mcpServers",
    "goose": "extensions",
}

FILE_CLIENTS = sorted(SERVERS_KEY)
PLATFORMS = ("linux", "darwin")


def documented_path(folders: Folders, client: str, platform: str) -> Path:
    relative = DOCUMENTED_FILES[(client, platform)]
    base = folders.home if relative.startswith("~") else folders.cwd
    return base / relative[2:]


def prepare_client_folder(folders: Folders, client: str, platform: str) -> Path:
    """Create the folder an installed client would have; returns its file's path."""
    path = documented_path(folders, client, platform)
    if relative_to_home(folders, path):
        path.parent.mkdir(parents=True, exist_ok=True)
    return path


def relative_to_home(folders: Folders, path: Path) -> bool:
    return path.is_relative_to(folders.home)


def load(path: Path, client: str) -> Any:
    """The file's data, read the way the client reads it."""
    text = path.read_text(encoding="utf-8")
    if client == "goose":
        return YAML(typ="safe").load(text)
    if client in ("claude-desktop", "claude-code"):
        return json.loads(text)
    root = parse(text, str(path), JSONC)
    return root.value if root is not None else None


# Existing files in each client's documented format, holding another server and other settings,
# written with the quirks people leave in them (indent styles, CRLF, no final newline, comments,
# trailing commas, escapes). Each starts from the example on the client's page cited above.
SAMPLES = {
    # MCP guide's filesystem server; 4-space indents, a one-line array, escapes, another key.
    "claude-desktop": (
        "{\n"
        '    "globalShortcut": "Ctrl+Space",\n'
        '    "mcpServers": {\n'
        '        "filesystem": {\n'
        '            "command": "npx",\n'
        '            "args": ["-y", "@modelcontextprotocol/server-filesystem", '
        '"/Users/username/Desktop", "/Users/username/Downloads"]\n'
        "        }\n"
        "    },\n"
        '    "note": "caf\\u00e9 \\"quoted\\" \\\\ path"\n'
        "}\n"
    ),
    # Claude Code's .mcp.json example, with Windows line endings and no final newline.
    "claude-code": (
        "{\r\n"
        '  "mcpServers": {\r\n'
        '    "shared-server": {\r\n'
        '      "command": "/path/to/server",\r\n'
        '      "args": [],\r\n'
        '      "env": {}\r\n'
        "    }\r\n"
        "  }\r\n"
        "}"
    ),
    # Cursor's example server; tabs, comments before and inside, trailing commas.
    "cursor": (
        "// Cursor MCP servers\n"
        "{\n"
        '\t"mcpServers": {\n'
        '\t\t"server-name": {\n'
        '\t\t\t"command": "npx",\n'
        '\t\t\t"args": ["-y", "mcp-server"],\n'
        '\t\t\t"env": {"API_KEY": "value"}, // inline note\n'
        "\t\t},\n"
        "\t\t/* a block\n"
        "\t\t   comment */\n"
        "\t},\n"
        "}\n"
    ),
    # VS Code's Perplexity example: inputs with a password prompt, comments, trailing commas.
    "vscode": (
        "{\n"
        "  // Inputs are prompted on first server start, then stored securely by VS Code.\n"
        '  "inputs": [\n'
        "    {\n"
        '      "type": "promptString",\n'
        '      "id": "perplexity-key",\n'
        '      "description": "Perplexity API Key",\n'
        '      "password": true\n'
        "    }\n"
        "  ],\n"
        '  "servers": {\n'
        '    "Perplexity": {\n'
        '      "type": "stdio",\n'
        '      "command": "npx",\n'
        '      "args": ["-y", "@modelcontextprotocol/server-perplexity-ask"],\n'
        '      "env": {\n'
        '        "PERPLEXITY_API_KEY": "${input:perplexity-key}",\n'
        "      },\n"
        "    },\n"
        "  },\n"
        "}\n"
    ),
    # Gemini CLI: nested settings (configuration page) and the pythonTools server of the MCP
    # page; comments are fine there, trailing commas are not.
    "gemini-cli": (
        "{\n"
        '  "general": {\n'
        '    "vimMode": true, // I like vim\n'
        '    "preferredEditor": "code"\n'
        "  },\n"
        '  "ui": { "theme": "GitHub", "hideBanner": true },\n'
        '  "mcpServers": {\n'
        '    "pythonTools": {\n'
        '      "command": "python",\n'
        '      "args": ["-m", "my_mcp_server", "--port", "8080"],\n'
        '      "cwd": "./mcp-servers/python",\n'
        '      "env": {\n'
        '        "DATABASE_URL": "$DB_CONNECTION_STRING",\n'
        '        "API_KEY": "${EXTERNAL_API_KEY}"\n'
        "      },\n"
        '      "timeout": 15000\n'
        "    }\n"
        "  }\n"
        "}\n"
    ),
    # Goose's config-files example: comments, blank lines, quoting styles, a flow list.
    "goose": (
        "# Model Configuration\n"
        "active_provider: anthropic\n"
        "providers:\n"
        "  anthropic:\n"
        "    enabled: true\n"
        "    model: claude-sonnet-4-5-20250929\n"
        "    configured: true\n"
        "GOOSE_TEMPERATURE: 0.7\n"
        "\n"
        "# Tool Configuration\n"
        'GOOSE_MODE: "smart_approve"\n'
        "\n"
        "# Extensions Configuration\n"
        "extensions:\n"
        "  developer:\n"
        "    bundled: true\n"
        "    enabled: true\n"
        "    name: developer\n"
        "    timeout: 300\n"
        "    type: builtin\n"
        "\n"
        "  filesystem:\n"
        "    type: stdio\n"
        "    name: filesystem\n"
        "    enabled: true\n"
        "    cmd: npx\n"
        '    args: ["-y", "@modelcontextprotocol/server-filesystem", "/tmp"]  # flow list\n'
        "    env_keys: []\n"
        "    envs: {}\n"
        "    timeout: 300\n"
        "\n"
        "# Search Path Configuration\n"
        "GOOSE_SEARCH_PATHS:\n"
        '  - "/usr/local/bin"\n'
        "  - '~/custom/tools'\n"
    ),
}

# A missing comma on line 4 (JSON), a key indented one space short on line 4 (YAML).
BROKEN = {
    "json": '{\n  "mcpServers": {\n    "a": {"command": "x"}\n    "b": {}\n  }\n}\n',
    "yaml": "extensions:\n  developer:\n    enabled: true\n   name: developer\n",
}


def broken_sample(client: str) -> str:
    return BROKEN["yaml" if client == "goose" else "json"]
