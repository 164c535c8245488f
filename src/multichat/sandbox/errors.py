"""The exceptions of the sandbox platform, all below ``multichat.errors.MultichatError``.

::

    MultichatError
    └── SandboxError                 anything the sandbox raises on purpose
        ├── ApiError                 a chat API request failed; becomes {"error": {"code", ...}}
        ├── OAuthError               a token or revoke request failed; becomes RFC 6749 JSON
        ├── ConsentError             the consent page cannot be shown or submitted (400 page)
        ├── UnknownChannel           (also KeyError) ``seed_channel`` got a name not in the DB
        ├── AddressInUse             (also UserError) the host and port cannot be bound
        └── UnusableDatabase         (also UserError) the database file cannot be the sandbox's

The HTTP layer turns the first three into responses; the others reach the caller (and the CLI).
"""

from __future__ import annotations

from multichat.errors import MultichatError, UserError


class SandboxError(MultichatError):
    """Base of every error the sandbox raises on purpose."""


class ApiError(SandboxError):
    """A chat API request failed; ``code`` is one of the stable error codes of the API."""

    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        """Keep the HTTP status, the stable code and any headers the response must carry."""
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


class OAuthError(SandboxError):
    """An OAuth token or revocation request failed (RFC 6749 §5.2 error codes)."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        """Keep the RFC error code, a description for people and the HTTP status."""
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status = status


class ConsentError(SandboxError):
    """The authorization request cannot be trusted, so an error page is shown, not a redirect."""


class UnknownChannel(SandboxError, KeyError):
    """A channel name that the sandbox database does not hold."""

    def __str__(self) -> str:
        """Show the message itself, not KeyError's quoted repr of it."""
        return str(self.args[0]) if self.args else ""


class AddressInUse(SandboxError, UserError):
    """The sandbox cannot listen on the requested host and port."""


class UnusableDatabase(SandboxError, UserError):
    """The sandbox's database file cannot be opened, or holds something else; it is left as is."""
