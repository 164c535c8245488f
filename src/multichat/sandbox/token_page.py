"""``/settings/tokens``: the page where people make a personal access token with their password."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from multichat.sandbox import schemas
from multichat.sandbox.account_pages import (
    MAX_TOKEN_LIFETIME,
    personal_token_created,
    personal_token_form,
)
from multichat.sandbox.accounts import sign_in
from multichat.sandbox.form_tokens import issue_form_token, take_form_token
from multichat.sandbox.forms import FormPairs, form_schema
from multichat.sandbox.personal_tokens import create_personal_token
from multichat.sandbox.scopes import ALL_SCOPES, parse_scopes
from multichat.sandbox.settings import db_of, settings_of

router = APIRouter(tags=["pages"])

PURPOSE = "personal_token"
MAX_NOTE = 100


def _lifetime(text: str) -> int | None:
    """Seconds from the form's ``expires_in`` (empty: never).

    Raises:
        ValueError: not a whole number of seconds in range.
    """
    if not text:
        return None
    seconds = int(text)
    if not 0 < seconds <= MAX_TOKEN_LIFETIME:
        raise ValueError(text)
    return seconds


@router.get("/settings/tokens", response_class=HTMLResponse, responses=schemas.PAGE_RESPONSES)
def token_form(request: Request) -> HTMLResponse:
    """The form that makes a personal access token (username, password, scopes, expiry)."""
    db, settings = db_of(request), settings_of(request)
    return personal_token_form(issue_form_token(db, PURPOSE, settings.form_ttl, {}))


@router.post(
    "/settings/tokens",
    response_class=HTMLResponse,
    responses=schemas.PAGE_RESPONSES,
    openapi_extra=form_schema("csrf_token", "username", "password", "note", "scope", "expires_in"),
)
def create_token(request: Request, pairs: FormPairs) -> HTMLResponse:
    """Make the token and show it once; the form again, with the reason, if anything is wrong.

    ``scope`` may repeat (one per checkbox) or hold several scopes separated by spaces.
    """
    db, settings = db_of(request), settings_of(request)
    form = dict(pairs)
    scopes = parse_scopes(" ".join(value for name, value in pairs if name == "scope"))
    username, password = form.get("username", ""), form.get("password", "")
    note, expires_text = form.get("note", "").strip(), form.get("expires_in", "").strip()

    def again(error: str) -> HTMLResponse:
        csrf = issue_form_token(db, PURPOSE, settings.form_ttl, {})
        return personal_token_form(
            csrf,
            username=username,
            note=note,
            scopes=scopes,
            expires_in=expires_text,
            error=error,
            status=400,
        )

    if take_form_token(db, form.get("csrf_token"), PURPOSE) is None:
        return again("This form expired or was already sent; here is a fresh one, try again.")
    unknown = [scope for scope in scopes if scope not in ALL_SCOPES]
    if unknown:
        return again(f"Unknown scope: {' '.join(unknown)}.")
    if not scopes:
        return again("Choose at least one scope.")
    if len(note) > MAX_NOTE:
        return again(f"Keep the note under {MAX_NOTE} characters.")
    try:
        lifetime = _lifetime(expires_text)
    except ValueError:
        return again(
            f"Expires must be empty (never) or 1 to {MAX_TOKEN_LIFETIME} seconds from now."
        )
    account = sign_in(db, username, password)
    if account is None:
        return again("Wrong username or password.")
    value, token = create_personal_token(db, account.user_id, scopes, note, lifetime)
    return personal_token_created(value, token)
