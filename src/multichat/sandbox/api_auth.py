"""Bearer-token authentication and scope checks for the chat API, as FastAPI dependencies."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from multichat.sandbox.errors import ApiError
from multichat.sandbox.oauth_store import token_problem, verify_access_token
from multichat.sandbox.settings import db_of

bearer = HTTPBearer(
    auto_error=False,
    description="An access token from /oauth/token, or a personal access token from "
    "/settings/tokens.",
)


@dataclass(frozen=True)
class Principal:
    """Who is calling and with which scopes."""

    user_id: str
    client_id: str
    scopes: frozenset[str]


def authenticate(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """The caller behind the request's Bearer token; 401 without a live one."""
    if credentials is None:
        raise ApiError(
            401,
            "unauthorized",
            "this call needs an Authorization: Bearer <access_token> header",
            {"WWW-Authenticate": 'Bearer realm="sandbox"'},
        )
    grant = verify_access_token(db_of(request), credentials.credentials)
    if grant is None:
        raise ApiError(
            401,
            "unauthorized",
            token_problem(db_of(request), credentials.credentials),
            {"WWW-Authenticate": 'Bearer realm="sandbox", error="invalid_token"'},
        )
    return Principal(grant.user_id, grant.client_id, grant.scopes)


def requires(scope: str) -> Callable[[Principal], Principal]:
    """A dependency that lets the call through only with ``scope`` (403 insufficient_scope)."""

    def check(principal: Annotated[Principal, Depends(authenticate)]) -> Principal:
        if scope not in principal.scopes:
            raise ApiError(
                403,
                "insufficient_scope",
                f"this call needs the {scope} scope",
                {"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{scope}"'},
            )
        return principal

    return check
