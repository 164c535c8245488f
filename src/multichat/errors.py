"""The exceptions multichat raises; the CLI turns each into one line and an exit code.

::

    MultichatError                      anything multichat raises on purpose (exit 1)
    ├── UserError                       something the user must fix (exit 2)
    │   ├── ConfigError                 provider-config.yaml is unreadable or invalid
    │   │   └── ConfigNotFound          no provider-config.yaml up the tree
    │   ├── InvalidProviderName         (also ValueError) a name that cannot be a provider
    │   ├── ProviderExists              `new provider` on a name already in use
    │   ├── UnknownProvider             (also KeyError) a name not in provider-config.yaml
    │   ├── WorkspaceNotEmpty           `init` into a folder that has files
    │   ├── DuplicateTool               two tools of one provider share a name
    │   ├── UnprotectedHttp             HTTP on a non-loopback address with no protection
    │   ├── InvalidHttpToken            (also ValueError) an unusable HTTP bearer token
    │   └── UnsendableToken             (also ValueError) a platform token no header can carry
    ├── NotAuthenticated                a provider has no usable token yet
    ├── TokenAccessDenied               a provider's code asked for another provider's token
    ├── ProviderLoadError               a provider failed to import or breaks the contract
    └── GenerationError                 rendering a template failed; nothing was written

Library code raises these and never calls ``sys.exit``; only ``multichat.cli`` prints them.
Messages never contain tokens or secrets.
"""

from __future__ import annotations

import errno

#: The exit codes of every command: the one list that ``--help``, the docs and the tests read.
EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
#: ``auth --status`` only: neither "works" (0) nor "sign in again" (1), so scripts can retry.
EXIT_UNCHECKED = 3
EXIT_INTERRUPTED = 130
EXIT_CODES: tuple[tuple[int, str], ...] = (
    (EXIT_OK, "success; also `run` stopped by SIGTERM"),
    (EXIT_FAILURE, "a failure: a denied sign-in, a timeout, a provider that did not load"),
    (EXIT_USAGE, "bad input or usage: an invalid name, a broken provider-config.yaml"),
    (EXIT_UNCHECKED, "auth --status: the token could not be checked (platform or Redis down)"),
    (EXIT_INTERRUPTED, "interrupted (Ctrl-C), `run` included"),
)


class MultichatError(Exception):
    """Base of every error multichat raises on purpose; ``exit_code`` is what the CLI returns."""

    exit_code = EXIT_FAILURE


class UserError(MultichatError):
    """Input the user must fix: a bad name, a broken config file, an unknown provider."""

    exit_code = EXIT_USAGE


class ConfigError(UserError):
    """``provider-config.yaml`` does not parse or holds an invalid value.

    Bad input like any other (exit 2), named with file, line and key so the user can fix it.
    """


class ConfigNotFound(ConfigError):
    """No ``provider-config.yaml`` was found from the working directory upwards."""


class InvalidProviderName(UserError, ValueError):
    """A provider name that is not a lowercase Python identifier, or is reserved."""


class ProviderExists(UserError):
    """``multichat new provider`` was asked for a name the workspace already uses."""


class UnknownProvider(UserError, KeyError):
    """A provider name that ``provider-config.yaml`` does not define."""

    def __str__(self) -> str:
        """Show the message itself, not KeyError's quoted repr of it."""
        return str(self.args[0]) if self.args else ""


class WorkspaceNotEmpty(UserError):
    """``multichat init`` was pointed at a folder that already holds files."""


class DuplicateTool(UserError):
    """Two tools of one provider would be served under the same name."""


class UnprotectedHttp(UserError):
    """Serving HTTP on a non-loopback address with no bearer token, JWT verifier or opt-out."""


class InvalidHttpToken(UserError, ValueError):
    """The HTTP bearer token is empty, short, or not sendable in a header (never shown)."""


class UnsendableToken(UserError, ValueError):
    """A platform token holds a character an HTTP header cannot carry (a pasted curly quote).

    The message names the character and its position, never the token.
    """


#: What ``multichat auth NAME`` does in the sign-in modes other than OAuth's browser page.
SIGN_IN_HINTS = {
    "token": "it asks for the token; or pipe it in with --with-token",
    "password": "it asks for user and password",
    "device": "it shows a code to enter on another device",
}


class NotAuthenticated(MultichatError):
    """A provider has no usable token; the message names the command that fixes it."""

    def __init__(
        self, provider: str, reason: str = "no token yet", mode: str | None = None
    ) -> None:
        """Build the message from the provider name (and its sign-in mode) to name the fix."""
        self.provider = provider
        hint = f" ({SIGN_IN_HINTS[mode]})" if mode in SIGN_IN_HINTS else ""
        super().__init__(
            f"{provider} is not authenticated ({reason}): run `multichat auth {provider}`{hint}"
        )


class TokenAccessDenied(MultichatError):
    """Code in one provider's package asked the runtime for another provider's token."""


class ProviderLoadError(MultichatError):
    """A provider failed to import or does not follow the three-file contract."""

    def __init__(self, provider: str, reason: str) -> None:
        """Keep the provider name apart so reports can group by it."""
        self.provider = provider
        self.reason = reason
        super().__init__(f"provider {provider!r} failed to load: {reason}")


class WorkspaceWriteError(MultichatError):
    """The system refused a write (a full disk, a read-only folder); nothing was left changed."""


def os_error_text(error: OSError) -> str:
    """``No space left on device: /path``: the system's reason and the file it is about."""
    reason = error.strerror or type(error).__name__
    return f"{reason}: {error.filename}" if error.filename else reason


def bind_error_text(error: OSError, port: int) -> str:
    """Why an address could not be listened on, and which of ``--host``/``--port`` to change."""
    reason = error.strerror or str(error)
    if error.errno == errno.EADDRNOTAVAIL:
        advice = "that address is not this machine's; give --host one of its own addresses"
    elif error.errno == errno.EADDRINUSE:
        advice = "something else listens there; choose another --port"
    elif error.errno == errno.EACCES and 0 < port < 1024:
        advice = "ports below 1024 need privileges; choose a --port of 1024 or above"
    else:
        advice = "check --host and --port"
    return f"{reason}; {advice}"


class GenerationError(MultichatError):
    """A template failed to render or validate; the workspace was left as it was."""
