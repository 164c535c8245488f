"""The HTML of the pages where people sign in with their password: tokens and devices.

``/settings/tokens`` makes a personal access token; ``/device`` takes a device's user code, a
sign-in, then Allow or Deny (the consent page of :mod:`multichat.sandbox.consent`). Every form
carries a single-use CSRF token; no page can be framed or cached.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from fastapi.responses import HTMLResponse

from multichat.sandbox.consent import PAGE_HEADERS, html_document
from multichat.sandbox.personal_tokens import PersonalToken
from multichat.sandbox.scopes import ALL_SCOPES, SCOPE_WORDS
from multichat.sandbox.timestamps import to_iso

# The lifetimes offered on the token page (seconds; "" is no expiry). The form accepts any
# whole number of seconds up to MAX_TOKEN_LIFETIME, so tests can ask for short ones.
EXPIRY_CHOICES: tuple[tuple[str, str], ...] = (
    ("", "Never"),
    ("3600", "1 hour"),
    ("86400", "1 day"),
    ("604800", "7 days"),
    ("2592000", "30 days"),
    ("7776000", "90 days"),
)
MAX_TOKEN_LIFETIME = 10 * 366 * 24 * 3600


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(html_document(title, body), status_code=status, headers=PAGE_HEADERS)


def _error(message: str | None) -> str:
    return f'<p class="error" id="error" role="alert">{escape(message)}</p>' if message else ""


def _hidden(name: str, value: str) -> str:
    return f'<input type="hidden" name="{escape(name)}" value="{escape(value)}">'


def _sign_in_fields(username: str) -> str:
    return (
        '<label for="username">Username</label>'
        f'<input type="text" id="username" name="username" value="{escape(username)}" '
        'autocomplete="username" autocapitalize="none" spellcheck="false" required>'
        '<label for="password">Password</label>'
        '<input type="password" id="password" name="password" autocomplete="current-password" '
        "required>"
    )


def scope_id(scope: str) -> str:
    """The HTML id of a scope's checkbox: ``scope-chat-read``."""
    return "scope-" + scope.replace(":", "-")


def personal_token_form(
    csrf: str,
    *,
    username: str = "",
    note: str = "",
    scopes: Sequence[str] = ALL_SCOPES,
    expires_in: str = "",
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    """The form that makes a personal access token, filled with what was sent before."""
    boxes = "".join(
        f'<label><input type="checkbox" name="scope" value="{escape(scope)}" '
        f'id="{scope_id(scope)}"{" checked" if scope in scopes else ""}> '
        f"<strong>{escape(scope)}</strong>: {escape(SCOPE_WORDS[scope])}</label>"
        for scope in ALL_SCOPES
    )
    options = "".join(
        f'<option value="{value}"{" selected" if value == expires_in else ""}>{label}</option>'
        for value, label in EXPIRY_CHOICES
    )
    body = (
        "<h1>New personal access token</h1>"
        "<p>A personal access token lets a program use the chat API as you: it sends "
        "<code>Authorization: Bearer &lt;token&gt;</code>. Sign in to make one.</p>"
        f"{_error(error)}"
        f'<form method="post" action="/settings/tokens">{_hidden("csrf_token", csrf)}'
        f"{_sign_in_fields(username)}"
        '<label for="note">What is it for?</label>'
        f'<input type="text" id="note" name="note" value="{escape(note)}" maxlength="100" '
        'placeholder="my MCP server">'
        f"<fieldset><legend><strong>Scopes</strong></legend>{boxes}</fieldset>"
        f'<label for="expires_in">Expires</label><select id="expires_in" name="expires_in">'
        f"{options}</select>"
        '<div class="buttons"><button class="primary" id="create">Create token</button></div>'
        "</form>"
    )
    return _page("New personal access token", body, status)


def personal_token_created(value: str, token: PersonalToken) -> HTMLResponse:
    """The new token's value, shown this once, and what it may do."""
    expires = f"on {to_iso(token.expires_at)}" if token.expires_at is not None else "never"
    body = (
        "<h1>Your new personal access token</h1>"
        f'<p>For <strong id="owner">@{escape(token.username)}</strong>'
        f"{f' ({escape(token.note)})' if token.note else ''}. Copy it now: it is shown only "
        "this once.</p>"
        f'<p><code id="token">{escape(value)}</code></p>'
        f'<p class="who">Scopes: <span id="scopes">{escape(" ".join(token.scopes))}</span>; '
        f'expires <span id="expires">{escape(expires)}</span>. '
        "Revoke it with <code>POST /oauth/revoke</code>.</p>"
        '<p><a href="/settings/tokens">Make another</a></p>'
    )
    return _page("Your new personal access token", body)


def device_code_form(*, user_code: str = "", error: str | None = None) -> HTMLResponse:
    """The page that asks for the code a device shows."""
    body = (
        "<h1>Connect a device</h1>"
        "<p>Enter the code shown on your device.</p>"
        f"{_error(error)}"
        '<form method="get" action="/device">'
        '<label for="user_code">Code</label>'
        f'<input type="text" id="user_code" name="user_code" value="{escape(user_code)}" '
        'placeholder="BCDF-GHJK" autocomplete="off" autocapitalize="characters" '
        'spellcheck="false" required>'
        '<div class="buttons"><button class="primary" id="continue">Continue</button></div>'
        "</form>"
    )
    return _page("Connect a device", body, 400 if error else 200)


def device_sign_in_form(
    csrf: str,
    *,
    app_name: str,
    user_code: str,
    username: str = "",
    error: str | None = None,
) -> HTMLResponse:
    """The sign-in step of ``/device``, once the code is known."""
    body = (
        f'<h1>Sign in to connect <span id="app-name">{escape(app_name)}</span></h1>'
        '<p>Check that your device shows this code: <span class="code" id="user-code">'
        f"{escape(user_code)}</span></p>"
        f"{_error(error)}"
        f'<form method="post" action="/device/sign-in">{_hidden("csrf_token", csrf)}'
        f"{_sign_in_fields(username)}"
        '<div class="buttons"><button class="primary" id="sign-in">Sign in</button></div>'
        "</form>"
    )
    return _page(f"Sign in to connect {app_name}", body, 400 if error else 200)


def device_done(app_name: str, *, allowed: bool) -> HTMLResponse:
    """What the person sees after Allow or Deny."""
    if allowed:
        title, text = "Device connected", f"{app_name} can now use your sandbox account."
    else:
        title, text = "Access denied", f"{app_name} will not get access to your sandbox account."
    body = (
        f'<h1 id="result">{escape(title)}</h1><p>{escape(text)} '
        "You can close this page and go back to your device.</p>"
    )
    return _page(title, body)
