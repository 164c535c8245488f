"""Who a call is for, on a server shared by a team: the MCP user's identity, per request.

``multichat run --multi-user`` sets :data:`current_user` for each MCP request from the verified
token FastMCP hands it (:mod:`.multi_user`); :class:`~.token_access.ProviderAuth` reads it to
pick that person's token, kept under ``.multichat/users/<key>/<provider>/token.json``, where
``<key>`` is a digest of the identity provider's issuer and the user's ``sub``. With no user
(stdio, a single-user HTTP server) nothing changes. Once :func:`require_users` is on, a call
with no user gets no token at all, so the shared token can never serve a team member.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

from multichat.contract import STATE_DIR, TOKEN_FILENAME, validate_provider_name
from multichat.errors import NotAuthenticated, TokenAccessDenied
from multichat.runtime.config import token_dir

#: Where each person's tokens live, under the workspace folder.
USERS_DIR = STATE_DIR / "users"


@dataclass(frozen=True)
class UserIdentity:
    """One person as the identity provider names them: ``issuer`` and ``subject`` (``sub``).

    ``name`` (``preferred_username`` or ``email``) is for log lines only: two identity providers
    may hand out the same name, so tokens are keyed by ``issuer`` and ``subject``.
    """

    issuer: str
    subject: str
    name: str = ""

    @property
    def key(self) -> str:
        """The folder name of this person's tokens: SHA-256 of issuer and subject, 32 hex."""
        material = f"{self.issuer}\0{self.subject}".encode()
        return hashlib.sha256(material).hexdigest()[:32]

    def describe(self) -> str:
        """How audit lines name the person: ``name (sub@issuer)``, never a token."""
        who = f"{self.subject}@{self.issuer}" if self.issuer else self.subject
        return f"{self.name} ({who})" if self.name else who


#: The person the current MCP request is for; ``None`` outside a multi-user request.
current_user: ContextVar[UserIdentity | None] = ContextVar("multichat_current_user", default=None)

_required = False
_sign_in_link: Callable[[str, UserIdentity], str | None] | None = None


class SignInRequired(NotAuthenticated):
    """A person has no usable token for a provider; the message holds their own sign-in link."""

    def __init__(self, provider: str, reason: str, link: str | None) -> None:
        """Name the link to open, or say who can set up sign-in when there is none."""
        self.provider = provider
        self.reason = reason
        self.link = link
        if link is None:
            text = (
                f"{provider}: you are not signed in ({reason}), and this server cannot offer "
                "a sign-in link for it; ask its administrator"
            )
        else:
            text = (
                f"{provider}: you are not signed in ({reason}). Open this link to sign in "
                f"with your own {provider} account, then call the tool again: {link}"
            )
        Exception.__init__(self, text)


def require_users(required: bool = True) -> None:
    """Refuse every token to a call that has no user (a multi-user server); off by default."""
    global _required
    _required = required


def users_required() -> bool:
    """Whether this process serves only calls that carry a user."""
    return _required


def set_sign_in_link(make: Callable[[str, UserIdentity], str | None] | None) -> None:
    """Register what makes a person's sign-in link for a provider (the multi-user server's)."""
    global _sign_in_link
    _sign_in_link = make


def sign_in_required(provider: str, reason: str, user: UserIdentity) -> SignInRequired:
    """The error for ``user`` without a usable ``provider`` token, with a fresh link."""
    link = _sign_in_link(provider, user) if _sign_in_link is not None else None
    return SignInRequired(provider, reason, link)


def user_folder(root: Path, user: UserIdentity, provider: str) -> Path:
    """``root/.multichat/users/<key>/<provider>``: all this server keeps for one person there.

    Their token and their local state (read markers); removing ``users/<key>`` forgets the
    person. With ``MULTICHAT_TOKEN_DIR`` set, ``$MULTICHAT_TOKEN_DIR/users/...``.
    """
    validate_provider_name(provider)
    folder = token_dir()
    base = folder / USERS_DIR.name if folder is not None else root / USERS_DIR
    return base / user.key / provider


def user_token_path(root: Path, user: UserIdentity, provider: str) -> Path:
    """``root/.multichat/users/<key>/<provider>/token.json``: one file per person and provider.

    With ``MULTICHAT_TOKEN_DIR`` set (tokens on a volume), ``$MULTICHAT_TOKEN_DIR/users/...``.
    """
    return user_folder(root, user, provider) / TOKEN_FILENAME


def no_user_error(provider: str) -> TokenAccessDenied:
    """The refusal for a call that carries no user on a multi-user server."""
    return TokenAccessDenied(
        f"{provider}: this server keeps each person's tokens apart, and this call carries no "
        "user identity, so no token may serve it"
    )


@contextlib.contextmanager
def acting_as(user: UserIdentity | None) -> Iterator[None]:
    """Run a block as ``user`` (a sign-in callback, a test); the previous user comes back."""
    reset = current_user.set(user)
    try:
        yield
    finally:
        current_user.reset(reset)
