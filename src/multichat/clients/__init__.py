"""Add this workspace's MCP server to a client's settings: the library of ``multichat install``.

A command builds the entry, plans the change, shows or applies it::

    entry = server_entry(workspace, name=name, providers=providers, env=env)
    change = plan_install(client, entry, home=Path.home(), cwd=Path.cwd(),
                          platform=sys.platform, remove=remove, environ=dict(os.environ))
    # change.warnings go to stderr; change.path is None: print change.new_text (mcp-json);
    # --dry-run: print change.description and change.diff; else apply(change).

Errors are :class:`multichat.clients.errors.ClientError` subclasses (``UserError``).
"""

from __future__ import annotations

from multichat.clients.entry import EnvVar, ServerEntry, server_entry
from multichat.clients.plan import ClientChange, apply, plan_install
from multichat.clients.registry import CLIENT_NAMES

__all__ = [
    "CLIENT_NAMES",
    "ClientChange",
    "EnvVar",
    "ServerEntry",
    "apply",
    "plan_install",
    "server_entry",
]
