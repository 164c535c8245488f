"""The exceptions of ``multichat.clients``, all below ``multichat.errors.UserError``.

::

    UserError
    └── ClientError                  anything `install` refuses (exit 2)
        ├── UnknownClient            (also KeyError) a client name not in the registry
        ├── InvalidServerEntry       (also ValueError) a bad server name, provider or --env
        ├── ClientNotInstalled       the client's own folder is missing: is it installed?
        ├── EnvNeedsValue            the client cannot read a variable from the environment
        ├── EntryNotFound            --remove of a server the file does not hold
        ├── InvalidClientFile        the client's file does not parse or has another shape
        └── ClientFileChanged        the file changed between planning and writing (exit 1)

Every message is one line and names the file (and line) when there is one; none holds a secret.
"""

from __future__ import annotations

from multichat.errors import UserError


class ClientError(UserError):
    """Base of what ``multichat install`` refuses; nothing was written."""


class UnknownClient(ClientError, KeyError):
    """A client name that the registry does not know; the message lists the choices."""

    def __str__(self) -> str:
        """Show the message itself, not KeyError's quoted repr of it."""
        return str(self.args[0]) if self.args else ""


class InvalidServerEntry(ClientError, ValueError):
    """A server name, provider name or ``--env`` item that cannot go into a client's file."""


class ClientNotInstalled(ClientError):
    """The folder the client keeps its settings in does not exist (never run, or not here)."""


class EnvNeedsValue(ClientError):
    """The client cannot take a variable from its environment, so the value must be given."""


class EntryNotFound(ClientError):
    """``--remove`` asked for a server that the client's file does not hold."""


class InvalidClientFile(ClientError):
    """The client's file does not parse, or its servers key is not a mapping (file left as is).

    Bad input like a broken ``provider-config.yaml``: exit 2.
    """


class ClientFileChanged(ClientError):
    """The file changed after it was read (the client wrote it?); nothing was written."""

    exit_code = 1
