"""The JSON shapes of the chat API and the OAuth endpoints, as pydantic models.

They also make the OpenAPI description, so that every response the sandbox sends is documented.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_TEXT = 4000


class User(BaseModel):
    """A person or bot in the workspace."""

    id: str
    username: str
    name: str
    email: str
    is_bot: bool


class Author(BaseModel):
    """Who wrote a message."""

    id: str
    username: str
    name: str


class Channel(BaseModel):
    """A channel the signed-in user can see."""

    id: str
    name: str
    kind: Literal["public", "private", "direct"]
    topic: str
    is_member: bool
    member_count: int
    last_message_at: str | None


class Reaction(BaseModel):
    """One emoji on a message and who added it."""

    name: str
    count: int
    users: list[str]


class Message(BaseModel):
    """A message; ``thread_id`` is the root's id for replies and null for top-level messages."""

    id: str
    channel_id: str
    channel_name: str
    user: Author
    text: str
    created_at: str
    edited_at: str | None
    thread_id: str | None
    reply_count: int
    reactions: list[Reaction]
    mentions: list[str]


class UserPage(BaseModel):
    """A page of users."""

    items: list[User]
    next_cursor: str | None


class ChannelPage(BaseModel):
    """A page of channels."""

    items: list[Channel]
    next_cursor: str | None


class MessagePage(BaseModel):
    """A page of messages."""

    items: list[Message]
    next_cursor: str | None


class ReadMarker(BaseModel):
    """Where the signed-in user stopped reading a channel, and how much is new since."""

    channel_id: str
    last_read_message_id: str | None
    unread_count: int


class ErrorDetail(BaseModel):
    """What went wrong: a stable code and a message for people."""

    code: Literal[
        "not_found",
        "invalid_request",
        "insufficient_scope",
        "unauthorized",
        "rate_limited",
        "server_error",
        "forbidden",
    ]
    message: str


class ErrorBody(BaseModel):
    """Every error of the chat API has this shape."""

    error: ErrorDetail


class NewMessage(BaseModel):
    """A message to post; ``thread_id`` makes it a reply in that message's thread."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=MAX_TEXT)
    thread_id: str | None = None


class MessageEdit(BaseModel):
    """The new text of a message."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=MAX_TEXT)


class NewReaction(BaseModel):
    """An emoji name such as ``thumbsup``."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9_+\-]{1,64}$")


class ReadMarkerUpdate(BaseModel):
    """The message the user has read up to (inclusive)."""

    model_config = ConfigDict(extra="forbid")

    message_id: str


ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    status: {"model": ErrorBody, "description": description}
    for status, description in (
        (400, "invalid_request"),
        (401, "unauthorized: no, invalid, expired or revoked token"),
        (403, "insufficient_scope or forbidden"),
        (404, "not_found"),
        (429, "rate_limited (see Retry-After)"),
        (500, "server_error"),
    )
}


class TokenResponse(BaseModel):
    """A successful token response (RFC 6749 §5.1)."""

    access_token: str
    token_type: str
    expires_in: int
    refresh_token: str
    scope: str


class DeviceAuthorization(BaseModel):
    """A device authorization response (RFC 8628 §3.2)."""

    device_code: str
    user_code: str
    verification_uri: str
    verification_uri_complete: str
    expires_in: int
    interval: int


class OAuthErrorBody(BaseModel):
    """A failed token, revocation or userinfo request (RFC 6749 §5.2)."""

    error: str
    error_description: str


class UserInfo(BaseModel):
    """The signed-in user as OpenID Connect-style claims."""

    sub: str
    id: str
    name: str
    email: str
    username: str
    preferred_username: str


def _html_page(description: str) -> dict[str, object]:
    return {"description": description, "content": {"text/html": {"schema": {"type": "string"}}}}


AUTHORIZE_RESPONSES: dict[int | str, dict[str, object]] = {
    200: _html_page("the consent page"),
    302: {"description": "to redirect_uri, with code and state or with error and its description"},
    400: _html_page("an error page: the request cannot be trusted, so there is no redirect"),
}
DECIDE_RESPONSES: dict[int | str, dict[str, object]] = {
    302: AUTHORIZE_RESPONSES[302],
    400: AUTHORIZE_RESPONSES[400],
}
_OAUTH_ERROR = {"model": OAuthErrorBody}
TOKEN_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {"model": TokenResponse, "description": "The tokens"},
    400: {**_OAUTH_ERROR, "description": "invalid_request, invalid_grant, invalid_scope, ..."},
    401: {**_OAUTH_ERROR, "description": "invalid_client"},
}
REVOKE_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {"description": "Revoked, or unknown (RFC 7009 §2.2); the body is empty"},
    400: TOKEN_RESPONSES[400],
    401: TOKEN_RESPONSES[401],
}
DEVICE_AUTHORIZATION_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {"model": DeviceAuthorization, "description": "The device and user codes"},
    400: {**_OAUTH_ERROR, "description": "invalid_scope"},
    401: TOKEN_RESPONSES[401],
}
PAGE_RESPONSES: dict[int | str, dict[str, object]] = {
    200: _html_page("the page"),
    400: _html_page("the form again with what was wrong, or an error page"),
}
USERINFO_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {"model": UserInfo, "description": "The signed-in user"},
    401: {**_OAUTH_ERROR, "description": "invalid_token: missing, expired or revoked"},
}


class PersonalTokenInfo(BaseModel):
    """What ``/admin`` shows of a personal access token (never its value)."""

    id: str
    username: str
    note: str
    scopes: list[str]
    created_at: str
    expires_at: str | None
    revoked: bool


class RevokedCount(BaseModel):
    """How many tokens a revocation ended."""

    revoked: int


class DeviceApproval(BaseModel):
    """Who allows a device request from ``/admin`` (as if they had signed in on ``/device``)."""

    model_config = ConfigDict(extra="forbid")

    username: str = "ada"


DeviceStatus = Literal["pending", "approved", "denied", "used"]


class DeviceRequestState(BaseModel):
    """A device request after an ``/admin`` action on it."""

    user_code: str
    status: DeviceStatus
    expired: bool
