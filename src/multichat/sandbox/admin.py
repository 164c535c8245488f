"""``/admin``: knobs for tests over HTTP, with the admin token printed at start.

Fault injection (``/admin/faults``), personal tokens (list, revoke), revoking everything a user
holds, and device requests (approve, deny, or expire one without a browser).
"""

from __future__ import annotations

import hmac
from typing import Annotated, cast

from fastapi import APIRouter, Depends, Header, Request

from multichat.sandbox import device_store
from multichat.sandbox.db import Database
from multichat.sandbox.device_store import DeviceRequest
from multichat.sandbox.errors import ApiError
from multichat.sandbox.faults import Faults
from multichat.sandbox.oauth_store import revoke_tokens_of
from multichat.sandbox.personal_tokens import (
    PersonalToken,
    list_personal_tokens,
    revoke_personal_token_by_id,
)
from multichat.sandbox.schemas import (
    ERROR_RESPONSES,
    DeviceApproval,
    DeviceRequestState,
    DeviceStatus,
    PersonalTokenInfo,
    RevokedCount,
)
from multichat.sandbox.settings import db_of
from multichat.sandbox.timestamps import now, to_iso

ADMIN_HEADER = "X-Sandbox-Admin"


def require_admin(
    request: Request,
    token: Annotated[str | None, Header(alias=ADMIN_HEADER, description="The admin token.")] = None,
) -> None:
    """Let the call through only with the admin token printed at start (401 otherwise)."""
    expected: str = request.app.state.admin_token
    if not token or not hmac.compare_digest(token.encode(), expected.encode()):
        raise ApiError(401, "unauthorized", f"this call needs the {ADMIN_HEADER} header")


router = APIRouter(
    prefix="/admin",
    tags=["admin"],
    dependencies=[Depends(require_admin)],
    responses=ERROR_RESPONSES,
)


@router.get("/faults", response_model=Faults)
def read_faults(request: Request) -> Faults:
    """The faults injected now."""
    faults: Faults = request.app.state.faults
    return faults


@router.post("/faults", response_model=Faults)
def write_faults(request: Request, faults: Faults) -> Faults:
    """Replace every knob at once (omitted knobs go back to off)."""
    request.app.state.faults = faults
    return faults


def _token_info(token: PersonalToken) -> PersonalTokenInfo:
    return PersonalTokenInfo(
        id=token.id,
        username=token.username,
        note=token.note,
        scopes=list(token.scopes),
        created_at=to_iso(token.created_at),
        expires_at=to_iso(token.expires_at) if token.expires_at is not None else None,
        revoked=token.revoked,
    )


@router.get("/personal-tokens", response_model=list[PersonalTokenInfo])
def read_personal_tokens(request: Request, username: str | None = None) -> list[PersonalTokenInfo]:
    """Every personal access token (of ``username`` only, if given), without their values."""
    return [_token_info(token) for token in list_personal_tokens(db_of(request), username)]


@router.post("/personal-tokens/{token_id}/revoke", response_model=PersonalTokenInfo)
def revoke_personal_token(request: Request, token_id: str) -> PersonalTokenInfo:
    """Revoke one personal access token by its id."""
    token = revoke_personal_token_by_id(db_of(request), token_id)
    if token is None:
        raise ApiError(404, "not_found", f"no personal access token {token_id!r}")
    return _token_info(token)


@router.post("/users/{username}/revoke-tokens", response_model=RevokedCount)
def revoke_user_tokens(request: Request, username: str) -> RevokedCount:
    """Revoke every access, refresh and personal token of a user at once."""
    db = db_of(request)
    rows = db.query("SELECT id FROM users WHERE username = ?", (username,))
    if not rows:
        raise ApiError(404, "not_found", f"no user @{username}")
    return RevokedCount(revoked=revoke_tokens_of(db, rows[0]["id"]))


def _device_request(db: Database, user_code: str) -> DeviceRequest:
    found = device_store.find_by_user_code(db, user_code)
    if found is None:
        raise ApiError(404, "not_found", f"no device request with user code {user_code!r}")
    return found


def _device_state(db: Database, user_code: str, device_hash: str) -> DeviceRequestState:
    found = device_store.find_by_hash(db, device_hash)
    assert found is not None  # device requests are never deleted while they can be looked at
    code = device_store.normalize_user_code(user_code) or user_code
    return DeviceRequestState(
        user_code=device_store.format_user_code(code),
        status=cast(DeviceStatus, found.status),
        expired=found.expires_at <= now(),
    )


def _decide(
    request: Request, user_code: str, user_id: str | None, *, allow: bool
) -> DeviceRequestState:
    db = db_of(request)
    found = _device_request(db, user_code)
    if not device_store.decide(db, found.device_hash, user_id, allow=allow):
        raise ApiError(400, "invalid_request", "this device request no longer awaits a decision")
    return _device_state(db, user_code, found.device_hash)


@router.post("/device-codes/{user_code}/approve", response_model=DeviceRequestState)
def approve_device(
    request: Request, user_code: str, approval: DeviceApproval | None = None
) -> DeviceRequestState:
    """Allow a pending device request as ``username`` (default ada), as ``/device`` would."""
    username = (approval or DeviceApproval()).username
    rows = db_of(request).query("SELECT id FROM users WHERE username = ?", (username,))
    if not rows:
        raise ApiError(404, "not_found", f"no user @{username}")
    return _decide(request, user_code, rows[0]["id"], allow=True)


@router.post("/device-codes/{user_code}/deny", response_model=DeviceRequestState)
def deny_device(request: Request, user_code: str) -> DeviceRequestState:
    """Deny a pending device request: its next poll gets ``access_denied``."""
    return _decide(request, user_code, None, allow=False)


@router.post("/device-codes/{user_code}/expire", response_model=DeviceRequestState)
def expire_device(request: Request, user_code: str) -> DeviceRequestState:
    """End a device request's lifetime now: its next poll gets ``expired_token``."""
    db = db_of(request)
    found = _device_request(db, user_code)
    device_store.expire_now(db, found.device_hash)
    return _device_state(db, user_code, found.device_hash)
