"""``/admin/faults``: read and set the fault knobs over HTTP, with the admin token."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request

from multichat.sandbox.errors import ApiError
from multichat.sandbox.faults import Faults
from multichat.sandbox.schemas import ERROR_RESPONSES

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
