"""``/device``: where a person types a device's user code, signs in, and allows or denies it.

Three steps (RFC 8628 §3.3): the code (GET, so ``verification_uri_complete`` lands on the
sign-in at once), the sign-in, then the consent page. Each POST carries a single-use CSRF token
bound to the device request (and, after sign-in, to the person).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from multichat.sandbox import device_store, oauth_store, schemas
from multichat.sandbox.account_pages import device_code_form, device_done, device_sign_in_form
from multichat.sandbox.accounts import sign_in
from multichat.sandbox.consent import consent_page, error_page
from multichat.sandbox.db import Database
from multichat.sandbox.form_tokens import issue_form_token, take_form_token
from multichat.sandbox.forms import Form, form_schema
from multichat.sandbox.settings import db_of, settings_of

router = APIRouter(tags=["pages"])

SIGN_IN, DECISION = "device_sign_in", "device_decision"
_BAD_CODE = (
    "That code is not valid, or it has expired or was already used. Check the code on your "
    "device, or start again there."
)


def _app_name(db: Database, client_id: str) -> str:
    client = oauth_store.get_client(db, client_id)
    return client.name if client is not None else client_id


def _stale_form() -> HTMLResponse:
    return error_page(
        "This form has expired",
        "It was already sent, is too old, or did not come from this page. "
        "Enter the code from your device again at /device.",
    )


def _no_longer_valid() -> HTMLResponse:
    return error_page(
        "This code is no longer valid",
        "It has expired, or it was already allowed or denied. Start again on your device.",
    )


@router.get("/device", response_class=HTMLResponse, responses=schemas.PAGE_RESPONSES)
def device(request: Request, user_code: str | None = None) -> HTMLResponse:
    """Ask for the code a device shows; with a live ``user_code``, the sign-in form."""
    db, settings = db_of(request), settings_of(request)
    if not (user_code or "").strip():
        return device_code_form()
    found = device_store.find_by_user_code(db, user_code)
    code = device_store.normalize_user_code(user_code)
    if found is None or code is None or not found.awaiting_decision:
        return device_code_form(user_code=user_code or "", error=_BAD_CODE)
    shown = device_store.format_user_code(code)
    data = {"device": found.device_hash, "user_code": shown}
    return device_sign_in_form(
        issue_form_token(db, SIGN_IN, settings.form_ttl, data),
        app_name=_app_name(db, found.client_id),
        user_code=shown,
    )


@router.post(
    "/device/sign-in",
    response_class=HTMLResponse,
    responses=schemas.PAGE_RESPONSES,
    openapi_extra=form_schema("csrf_token", "username", "password"),
)
def device_sign_in(request: Request, form: Form) -> HTMLResponse:
    """Check the password; then ask the person to allow or deny the device."""
    db, settings = db_of(request), settings_of(request)
    data = take_form_token(db, form.get("csrf_token"), SIGN_IN)
    if data is None:
        return _stale_form()
    found = device_store.find_by_hash(db, data["device"])
    if found is None or not found.awaiting_decision:
        return _no_longer_valid()
    app_name = _app_name(db, found.client_id)
    account = sign_in(db, form.get("username"), form.get("password"))
    if account is None:
        return device_sign_in_form(
            issue_form_token(db, SIGN_IN, settings.form_ttl, data),
            app_name=app_name,
            user_code=data["user_code"],
            username=form.get("username", ""),
            error="Wrong username or password.",
        )
    decision = {**data, "user": account.user_id}
    return consent_page(
        app_name=app_name,
        user_name=account.name,
        username=account.username,
        scopes=list(found.scopes),
        where=f"The device showing {data['user_code']} gets access.",
        fields={"csrf_token": issue_form_token(db, DECISION, settings.form_ttl, decision)},
        action="/device/decision",
    )


@router.post(
    "/device/decision",
    response_class=HTMLResponse,
    responses=schemas.PAGE_RESPONSES,
    openapi_extra=form_schema("csrf_token", "decision"),
)
def device_decision(request: Request, form: Form) -> HTMLResponse:
    """Record Allow or Deny; the device's next poll gets tokens or ``access_denied``."""
    db = db_of(request)
    choice = form.get("decision")
    if choice not in ("allow", "deny"):
        return error_page("Cannot complete the sign-in", "decision must be 'allow' or 'deny'")
    data = take_form_token(db, form.get("csrf_token"), DECISION)
    if data is None:
        return _stale_form()
    found = device_store.find_by_hash(db, data["device"])
    allowed = choice == "allow"
    if found is None or not device_store.decide(db, found.device_hash, data["user"], allow=allowed):
        return _no_longer_valid()
    return device_done(_app_name(db, found.client_id), allowed=allowed)
