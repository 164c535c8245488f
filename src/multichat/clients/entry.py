"""The server entry a client is given: how to start this workspace's MCP server over stdio.

Every client gets the same command: ``uv run --directory WORKSPACE multichat run`` where the
workspace's environment has multichat, else the running multichat by its path with
``run --config WORKSPACE/provider-config.yaml`` (see :mod:`multichat.invocation`); one
``--provider`` per chosen provider. Only the file format around it differs (see ``render``).
Environment variables are added only when the user names them: ``NAME`` alone asks the client
to supply the value (from its environment, an input prompt or its key store), ``NAME=VALUE``
writes the value into the client's file, which the plan then warns about.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from multichat.clients.errors import InvalidServerEntry
from multichat.contract import CONFIG_FILENAME, validate_provider_name
from multichat.errors import InvalidProviderName

#: Letters first, then letters, digits, ``-`` and ``_``: the server names VS Code's mcp.json
#: schema accepts (https://json.schemastore.org/mcp-config-0.1.0.json), safe in every client.
SERVER_NAME_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
ENV_NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
DEFAULT_SERVER_NAME = "multichat"


@dataclass(frozen=True)
class EnvVar:
    """One environment variable of the server; ``value`` None means the client supplies it."""

    name: str
    value: str | None = None

    @property
    def is_secret_in_file(self) -> bool:
        """True when the value itself will be written into the client's file."""
        return self.value is not None


@dataclass(frozen=True)
class ServerEntry:
    """The MCP server a client should start: name, command line and environment."""

    name: str
    command: str
    args: tuple[str, ...]
    workspace: Path
    env: tuple[EnvVar, ...] = ()


def server_entry(
    workspace: Path,
    *,
    name: str | None = None,
    providers: Sequence[str] = (),
    env: Sequence[str] = (),
    command: str = "uv",
    directory: str | None = None,
    multichat: Sequence[str] = (),
) -> ServerEntry:
    """Build the entry that runs ``workspace``'s server, checking every name on the way.

    Args:
        workspace: The workspace folder (made absolute: clients start servers from anywhere).
        name: The server's name in the client; the workspace folder's name by default.
        providers: Serve only these providers (``--provider`` each); all of them when empty.
        env: ``NAME`` (the client supplies the value) or ``NAME=VALUE`` (written to the file).
        command: The ``uv`` to run; an absolute path helps clients started without the shell's
            PATH (Claude Desktop launched from the macOS Dock, for one).
        directory: What ``--directory`` says instead of the workspace's absolute path: for a
            file inside the workspace (``${workspaceFolder}``, ``.``), so that a committed
            file names no folder of this machine.
        multichat: Start this multichat instead of ``uv run`` (its path, or ``python -m
            multichat``), given the workspace's config with ``--config``.

    Raises:
        InvalidServerEntry: a bad server name, provider name or ``--env`` item.
    """
    workspace = workspace.expanduser().resolve()
    server = validate_server_name(name) if name is not None else default_server_name(workspace)
    if multichat:
        command, *start = multichat
        config = f"{directory}/{CONFIG_FILENAME}" if directory else str(workspace / CONFIG_FILENAME)
        args = [*start, "run", "--config", config]
    else:
        args = ["run", "--directory", directory or str(workspace), "multichat", "run"]
    for provider in dict.fromkeys(providers):
        try:
            validate_provider_name(provider)
        except InvalidProviderName as exc:
            raise InvalidServerEntry(str(exc)) from None
        args += ["--provider", provider]
    variables = tuple(parse_env_item(item) for item in env)
    seen: set[str] = set()
    for variable in variables:
        if variable.name in seen:
            raise InvalidServerEntry(f"--env {variable.name} is given twice")
        seen.add(variable.name)
    return ServerEntry(server, command, tuple(args), workspace, variables)


def validate_server_name(name: str) -> str:
    """Return ``name`` if every client can take it as a server name, else raise."""
    if not SERVER_NAME_PATTERN.fullmatch(name):
        raise InvalidServerEntry(
            f"invalid server name {name!r}: use a letter, then up to 63 letters, digits, "
            "'-' or '_' (e.g. chat-tools)"
        )
    return name


def default_server_name(workspace: Path) -> str:
    """The workspace folder's name, with characters clients refuse turned into ``-``."""
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", workspace.name)
    slug = re.sub(r"^[^A-Za-z]+", "", slug).rstrip("-_")[:64]
    return slug or DEFAULT_SERVER_NAME


def parse_env_item(item: str) -> EnvVar:
    """Read one ``--env`` item: ``NAME`` or ``NAME=VALUE``."""
    name, equals, value = item.partition("=")
    if not ENV_NAME_PATTERN.fullmatch(name):
        shown = name if len(name) <= 40 else name[:40] + "…"
        raise InvalidServerEntry(
            f"invalid --env {shown!r}: give NAME or NAME=VALUE, NAME being letters, digits "
            "and '_' (e.g. MULTICHAT_SLACK_CLIENT_SECRET)"
        )
    return EnvVar(name, value if equals else None)
