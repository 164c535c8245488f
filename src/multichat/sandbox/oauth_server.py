"""The OAuth 2.0 authorization server: consent page, token, device, revocation and userinfo.

Grants: authorization code with PKCE S256 only (codes are single use), refresh token (tokens
rotate), resource owner password (RFC 6749 §4.3) and device code (RFC 8628, with ``/device``
as the verification page). Authorization requests that cannot be trusted (unknown client,
unregistered redirect URI, no PKCE) get an error page, never a redirect.
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import unquote, urlencode, urlsplit, urlunsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from multichat.sandbox import device_store, oauth_store, schemas
from multichat.sandbox.consent import consent_page, error_page
from multichat.sandbox.errors import ConsentError, OAuthError
from multichat.sandbox.forms import Form, form_schema
from multichat.sandbox.scopes import ALL_SCOPES, format_scopes, parse_scopes
from multichat.sandbox.settings import db_of, settings_of

router = APIRouter(prefix="/oauth", tags=["oauth"])

_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_AUTHORIZE_FIELDS = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
    "login_hint",
)


def _with_query(uri: str, params: dict[str, str | None]) -> str:
    parts = urlsplit(uri)
    extra = urlencode({key: value for key, value in params.items() if value is not None})
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def _oauth_error(exc: OAuthError) -> JSONResponse:
    headers = dict(_NO_STORE)
    if exc.status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="sandbox"'
    return JSONResponse(
        {"error": exc.error, "error_description": exc.description},
        status_code=exc.status,
        headers=headers,
    )


@router.get(
    "/authorize",
    response_class=HTMLResponse,
    response_model=None,
    responses=schemas.AUTHORIZE_RESPONSES,
)
def authorize(
    request: Request,
    response_type: str | None = None,
    client_id: str | None = None,
    redirect_uri: str | None = None,
    scope: str | None = None,
    state: str | None = None,
    code_challenge: str | None = None,
    code_challenge_method: str | None = None,
    login_hint: str | None = None,
) -> HTMLResponse | RedirectResponse:
    """Show the consent page for an authorization request (code flow with PKCE S256)."""
    db, settings = db_of(request), settings_of(request)
    try:
        client = oauth_store.get_client(db, client_id)
        if client is None:
            raise ConsentError(f"unknown client_id {client_id!r}")
        if not redirect_uri or not client.accepts_redirect(redirect_uri):
            raise ConsentError(f"redirect_uri {redirect_uri!r} is not registered for this client")
        if response_type != "code":
            raise ConsentError("response_type must be 'code'")
        if code_challenge_method != "S256" or not oauth_store.valid_pkce_value(code_challenge):
            raise ConsentError(
                "PKCE is required: send code_challenge with code_challenge_method=S256"
            )
    except ConsentError as exc:
        return error_page("This sign-in request is not valid", str(exc))
    try:
        scopes = oauth_store.requested_scopes(client, scope)
    except OAuthError as exc:
        params = {"error": exc.error, "error_description": exc.description, "state": state}
        return RedirectResponse(_with_query(redirect_uri, params), status_code=302)
    username = login_hint or settings.signed_in_username
    users = db.query("SELECT id, name, username FROM users WHERE username = ?", (username,))
    if not users:
        return error_page("No such sandbox user", f"there is no sandbox user @{username}")
    user = users[0]
    consent = oauth_store.Consent(
        client_id=client.client_id,
        user_id=user["id"],
        redirect_uri=redirect_uri,
        scope=format_scopes(scopes),
        state=state,
        code_challenge=code_challenge or "",
    )
    csrf = oauth_store.create_consent(db, consent, settings.consent_ttl)
    values = {
        "response_type": response_type,
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": format_scopes(scopes),
        "state": state,
        "code_challenge": code_challenge,
        "code_challenge_method": code_challenge_method,
        "login_hint": login_hint,
    }
    fields = {key: value for key, value in values.items() if value is not None}
    fields["csrf_token"] = csrf
    return consent_page(
        app_name=client.name,
        user_name=user["name"],
        username=user["username"],
        scopes=scopes,
        where=f"You will be sent back to {redirect_uri}",
        fields=fields,
    )


@router.post(
    "/authorize",
    response_class=HTMLResponse,
    response_model=None,
    responses=schemas.DECIDE_RESPONSES,
    openapi_extra=form_schema(*_AUTHORIZE_FIELDS, "csrf_token", "decision"),
)
def decide(request: Request, form: Form) -> HTMLResponse | RedirectResponse:
    """Receive the consent form: Allow redirects with a code, Deny with ``access_denied``."""
    db, settings = db_of(request), settings_of(request)
    decision = form.get("decision")
    if decision not in ("allow", "deny"):
        return error_page("Cannot complete the sign-in", "decision must be 'allow' or 'deny'")
    consent = oauth_store.take_consent(db, form.get("csrf_token"))
    if consent is None:
        return error_page(
            "This consent form has expired",
            "The form was already submitted, is too old, or did not come from this page. "
            "Start the sign-in again from the app.",
        )
    if decision == "deny":
        params = {
            "error": "access_denied",
            "error_description": "the user denied access",
            "state": consent.state,
        }
    else:
        code = oauth_store.create_code(db, consent, settings.code_ttl)
        params = {"code": code, "state": consent.state}
    return RedirectResponse(_with_query(consent.redirect_uri, params), status_code=302)


def _client_credentials(request: Request, form: dict[str, str]) -> tuple[str | None, str | None]:
    """``client_id`` and secret from HTTP Basic (RFC 6749 §2.3.1) or the form body."""
    header = request.headers.get("authorization", "")
    if header[:6].lower() == "basic ":
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
            user, _, password = decoded.partition(":")
        # ValueError covers binascii.Error, UnicodeDecodeError and non-ASCII header bytes.
        except ValueError as exc:
            raise OAuthError("invalid_client", "malformed Basic credentials", 401) from exc
        client_id, secret = unquote(user), unquote(password)
        if form.get("client_id") not in (None, client_id):
            raise OAuthError("invalid_request", "client_id differs from the Basic credentials")
        return client_id, secret
    return form.get("client_id"), form.get("client_secret")


@router.post(
    "/token",
    response_model=None,
    responses=schemas.TOKEN_RESPONSES,
    openapi_extra=form_schema(
        "grant_type",
        "code",
        "redirect_uri",
        "code_verifier",
        "refresh_token",
        "username",
        "password",
        "device_code",
        "scope",
        "client_id",
        "client_secret",
        required=("grant_type",),
    ),
)
def token(request: Request, form: Form) -> JSONResponse:
    """Exchange a code (with its PKCE verifier), a refresh token, a password or a device code.

    Device codes answer ``authorization_pending`` until the person decides, and ``slow_down``
    (the interval then grows by 5 s) when polled faster than the interval.
    """
    db, settings = db_of(request), settings_of(request)
    grant_type = form.get("grant_type")
    # Requests per grant type, answered or not: benchmarks and tests count refreshes here.
    request.app.state.token_requests[str(grant_type)] += 1
    try:
        client = oauth_store.authenticate_client(db, *_client_credentials(request, form))
        ttl = {"token_ttl": settings.token_ttl, "refresh_ttl": settings.refresh_ttl}
        if grant_type == "authorization_code":
            body = oauth_store.redeem_code(
                db,
                client,
                form.get("code"),
                form.get("redirect_uri"),
                form.get("code_verifier"),
                **ttl,
            )
        elif grant_type == "refresh_token":
            scopes = parse_scopes(form.get("scope"))
            body = oauth_store.rotate_refresh_token(
                db, client, form.get("refresh_token"), scopes or None, **ttl
            )
        elif grant_type == "password":
            body = oauth_store.grant_password(
                db, client, form.get("username"), form.get("password"), form.get("scope"), **ttl
            )
        elif grant_type == device_store.DEVICE_CODE_GRANT:
            body = device_store.poll(db, client, form.get("device_code"), **ttl)
        elif not grant_type:
            raise OAuthError("invalid_request", "grant_type is required")
        else:
            raise OAuthError(
                "unsupported_grant_type", f"grant_type {grant_type!r} is not supported"
            )
    except OAuthError as exc:
        return _oauth_error(exc)
    return JSONResponse(body, headers=_NO_STORE)


@router.post(
    "/device_authorization",
    response_model=None,
    responses=schemas.DEVICE_AUTHORIZATION_RESPONSES,
    openapi_extra=form_schema("client_id", "client_secret", "scope"),
)
def device_authorization(request: Request, form: Form) -> JSONResponse:
    """Start a device sign-in (RFC 8628 §3.1): a device code to poll with, a user code to type."""
    db, settings = db_of(request), settings_of(request)
    try:
        client = oauth_store.authenticate_client(db, *_client_credentials(request, form))
        scopes = oauth_store.requested_scopes(client, form.get("scope"))
    except OAuthError as exc:
        return _oauth_error(exc)
    device_code, user_code = device_store.start_device_authorization(
        db,
        client,
        scopes,
        ttl=settings.device_code_ttl,
        interval=settings.device_interval,
    )
    verification_uri = f"{str(request.base_url).rstrip('/')}/device"
    body = {
        "device_code": device_code,
        "user_code": user_code,
        "verification_uri": verification_uri,
        "verification_uri_complete": f"{verification_uri}?{urlencode({'user_code': user_code})}",
        "expires_in": int(settings.device_code_ttl),
        "interval": settings.device_interval,
    }
    return JSONResponse(body, headers=_NO_STORE)


@router.post(
    "/revoke",
    response_class=Response,
    response_model=None,
    responses=schemas.REVOKE_RESPONSES,
    openapi_extra=form_schema("token", "token_type_hint", "client_id", "client_secret"),
)
def revoke(request: Request, form: Form) -> Response:
    """Revoke an access, refresh or personal access token (RFC 7009): 200 even if unknown."""
    db = db_of(request)
    try:
        client_id, secret = _client_credentials(request, form)
        if client_id is not None:
            oauth_store.authenticate_client(db, client_id, secret)
        value = form.get("token")
        if not value:
            raise OAuthError("invalid_request", "token is required")
    except OAuthError as exc:
        return _oauth_error(exc)
    oauth_store.revoke_token(db, value, client_id)
    return Response(status_code=200, headers=_NO_STORE)


@router.get("/userinfo", response_model=None, responses=schemas.USERINFO_RESPONSES)
def userinfo(request: Request) -> JSONResponse:
    """The signed-in user behind a Bearer access token (OpenID Connect-style claims)."""
    header = request.headers.get("authorization", "")
    grant, problem = None, "send an Authorization: Bearer <access_token> header"
    if header[:7].lower() == "bearer ":
        value = header[7:].strip()
        grant = oauth_store.verify_access_token(db_of(request), value)
        if grant is None:
            problem = oauth_store.token_problem(db_of(request), value)
    if grant is None:
        return JSONResponse(
            {"error": "invalid_token", "error_description": problem},
            status_code=401,
            headers={"WWW-Authenticate": 'Bearer realm="sandbox", error="invalid_token"'},
        )
    row = db_of(request).query("SELECT * FROM users WHERE id = ?", (grant.user_id,))[0]
    return JSONResponse(
        {
            "sub": row["id"],
            "id": row["id"],
            "name": row["name"],
            "email": row["email"],
            "username": row["username"],
            "preferred_username": row["username"],
        }
    )


def metadata(base_url: str) -> dict[str, Any]:
    """RFC 8414 authorization server metadata for a server at ``base_url``."""
    return {
        "issuer": base_url,
        "authorization_endpoint": f"{base_url}/oauth/authorize",
        "token_endpoint": f"{base_url}/oauth/token",
        "device_authorization_endpoint": f"{base_url}/oauth/device_authorization",
        "revocation_endpoint": f"{base_url}/oauth/revoke",
        "userinfo_endpoint": f"{base_url}/oauth/userinfo",
        "response_types_supported": ["code"],
        "grant_types_supported": [
            "authorization_code",
            "refresh_token",
            "password",
            device_store.DEVICE_CODE_GRANT,
        ],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": [
            "none",
            "client_secret_post",
            "client_secret_basic",
        ],
        "revocation_endpoint_auth_methods_supported": [
            "none",
            "client_secret_post",
            "client_secret_basic",
        ],
        "scopes_supported": list(ALL_SCOPES),
    }
