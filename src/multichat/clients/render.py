"""The server entry in each client's words: the value stored under its servers key.

Three shapes cover the clients. The common ``{"command", "args", "env"}`` of Claude Desktop,
Claude Code, Cursor, Gemini CLI and the printed mcp-json; VS Code's, which adds
``"type": "stdio"`` and asks for value-less variables through ``inputs``; Goose's extension
entry (``cmd``, ``args``, ``envs``, ``env_keys``). A variable given without a value becomes the
client's own way of filling it in; a client with none (Claude Desktop) refuses it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from multichat.clients.entry import ServerEntry
from multichat.clients.errors import EnvNeedsValue

#: Goose's default extension timeout in seconds (its config-files guide shows ``timeout: 300``).
GOOSE_TIMEOUT_SECONDS = 300

INPUT_REFERENCE = re.compile(r"\$\{input:([^}]+)\}")


@dataclass(frozen=True)
class Rendered:
    """The value to store under the servers key, and VS Code inputs it refers to."""

    value: dict[str, Any]
    inputs: list[dict[str, Any]] = field(default_factory=list)


def standard_entry(
    entry: ServerEntry, reference: Callable[[str], str] | None, title: str
) -> Rendered:
    """``{"command", "args", "env"}``; ``reference`` spells a variable the client fills in."""
    value: dict[str, Any] = {"command": entry.command, "args": list(entry.args)}
    env: dict[str, str] = {}
    for variable in entry.env:
        if variable.value is not None:
            env[variable.name] = variable.value
        elif reference is None:
            raise EnvNeedsValue(
                f"{title} passes no variables of its own to servers: give --env "
                f"{variable.name}=VALUE (the value is then stored in its file)"
            )
        else:
            env[variable.name] = reference(variable.name)
    if env:
        value["env"] = env
    return Rendered(value)


def input_id(server: str, variable: str) -> str:
    """The VS Code input for ``variable`` of ``server``: one per server, so removal is exact."""
    return f"{server}-{variable}"


def vscode_entry(entry: ServerEntry) -> Rendered:
    """VS Code's stdio server; a value-less variable is a password prompt (``inputs``).

    VS Code asks once and keeps the answer in its secret storage, so the file holds only
    ``${input:ID}`` (https://code.visualstudio.com/docs/copilot/reference/mcp-configuration).
    """
    value: dict[str, Any] = {"type": "stdio", "command": entry.command, "args": list(entry.args)}
    env: dict[str, str] = {}
    inputs: list[dict[str, Any]] = []
    for variable in entry.env:
        if variable.value is not None:
            env[variable.name] = variable.value
            continue
        identifier = input_id(entry.name, variable.name)
        env[variable.name] = "${input:" + identifier + "}"
        inputs.append(
            {
                "type": "promptString",
                "id": identifier,
                "description": f"{variable.name} for the {entry.name} MCP server",
                "password": True,
            }
        )
    if env:
        value["env"] = env
    return Rendered(value, inputs)


def goose_entry(entry: ServerEntry) -> Rendered:
    """A Goose stdio extension; a value-less variable goes to ``env_keys``.

    Goose reads each ``env_keys`` name from its secret store or the environment, so no value
    is written (https://block.github.io/goose/docs/guides/config-files).
    """
    value: dict[str, Any] = {
        "name": entry.name,
        "type": "stdio",
        "enabled": True,
        "cmd": entry.command,
        "args": list(entry.args),
        "description": f"multichat workspace {entry.workspace}",
        "timeout": GOOSE_TIMEOUT_SECONDS,
    }
    literal = {var.name: var.value for var in entry.env if var.value is not None}
    keys = [variable.name for variable in entry.env if variable.value is None]
    value["envs"] = literal
    value["env_keys"] = keys
    return Rendered(value)


def input_references(data: Any) -> set[str]:
    """Every ``${input:ID}`` id used in ``data``'s strings (keys and values, at any depth)."""
    found: set[str] = set()
    for text in _strings(data):
        found.update(INPUT_REFERENCE.findall(text))
    return found


def _strings(data: Any) -> Iterable[str]:
    if isinstance(data, str):
        yield data
    elif isinstance(data, dict):
        for key, value in data.items():
            yield key
            yield from _strings(value)
    elif isinstance(data, list):
        for item in data:
            yield from _strings(item)
