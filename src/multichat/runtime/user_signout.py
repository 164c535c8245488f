"""Each person's own sign-out on a team server: a ``NAME_sign_out`` tool per provider.

On a multi-user server a person signed in through their link, and nothing but an
administrator could undo it: to switch accounts, or to withdraw the server's access. The tool
runs :func:`~.local_signin.sign_out` as the person calling (their token only: revoked at the
platform where it allows, then deleted); their next call to that provider answers with a new
sign-in link. Single-user servers have no such tool: ``multichat auth NAME --logout`` is there.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import anyio.to_thread
from fastmcp.exceptions import ToolError
from mcp.types import ToolAnnotations

from multichat.errors import MultichatError, UserError
from multichat.runtime.config import WorkspaceConfig
from multichat.runtime.oauth import RevocationNotDone
from multichat.runtime.users import current_user

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterable

    from fastmcp import FastMCP

audit = logging.getLogger("multichat.audit")
TOOL_SUFFIX = "_sign_out"


def sign_out_person(config: WorkspaceConfig, provider: str) -> str:
    """Sign the calling person out of ``provider``; what happened, without paths or tokens.

    Raises:
        UserError: the call names no person, or the platform could not be reached to revoke
            the token (then it is kept, so that it does not stay valid there unseen).
    """
    from multichat.runtime.local_signin import sign_out

    user = current_user.get()
    if user is None:
        raise UserError(f"{provider}: this call names no person, so there is nobody to sign out")
    try:
        notes = sign_out(config, provider)
    except RevocationNotDone as exc:
        raise UserError(
            f"{provider}: could not reach the platform to revoke your token ({exc.reason}), so "
            "it is kept and still signs you in; try again later"
        ) from None
    if any("no token to remove" in note for note in notes):
        return f"You were not signed in to {provider} on this server."
    revoked = [note.split("revoked the ", 1)[1] for note in notes if "revoked the " in note]
    done = f" and revoked your {' and '.join(revoked)} at {provider}" if revoked else ""
    audit.info("signed out user=%s provider=%s", user.describe(), provider)
    return (
        f"Signed out of {provider}: this server deleted your token{done}. Your next {provider} "
        "call answers with a link to sign in again (with another account, if you like)."
    )


def add_sign_out_tools(
    server: FastMCP[Any], config: WorkspaceConfig, providers: Iterable[str]
) -> None:
    """Add ``NAME_sign_out`` for each of ``providers`` to ``server``."""
    for provider in providers:
        server.tool(
            _sign_out_tool(config, provider),
            name=f"{provider}{TOOL_SUFFIX}",
            title=f"Sign out of {provider}",
            description=(
                f"Sign yourself out of {provider} on this server: your token is revoked and "
                "deleted; the next call gives you a link to sign in again. Takes no arguments."
            ),
            annotations=ToolAnnotations(
                read_only_hint=False, destructive_hint=True, idempotent_hint=True
            ),
            output_schema=None,
        )


def _sign_out_tool(config: WorkspaceConfig, provider: str) -> Callable[[], Awaitable[str]]:
    async def sign_out() -> str:
        try:
            return await anyio.to_thread.run_sync(sign_out_person, config, provider)
        except MultichatError as exc:
            raise ToolError(str(exc)) from None

    return sign_out
