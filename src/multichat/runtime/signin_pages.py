"""The HTML a person's sign-in link opens when the platform has no OAuth code flow.

A token or a password is typed into a form that posts back to the same path; a device code is
shown with the page to enter it on. Every page is ``no-store`` (a secret was typed into it),
sends no referrer (the link's ticket is in its URL) and may not be framed (a form for a token
inside someone else's page is a phishing kit).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

from starlette.responses import HTMLResponse

#: Headers of every sign-in page: not cached, not framed, no referrer.
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "form-action 'self'; frame-ancestors 'none'",
}
_STYLE = "font-family: sans-serif; max-width: 40em; margin: 4em auto"


@dataclass(frozen=True)
class Field:
    """One input of a sign-in form; ``secret`` ones are never filled in or remembered."""

    name: str
    label: str
    secret: bool = False
    value: str = ""


def _page(title: str, body: str, status: int) -> HTMLResponse:
    document = (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title></head><body style='{_STYLE}'>"
        f"<h1>{html.escape(title)}</h1>{body}</body></html>"
    )
    return HTMLResponse(document, status_code=status, headers=PAGE_HEADERS)


def form_page(
    title: str,
    intro: str,
    fields: Sequence[Field],
    form_id: str,
    *,
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    """A form that posts ``fields`` and the one-use ``form_id`` back to the page's own path."""
    parts = [f"<p>{html.escape(intro)}</p>"]
    if error:
        parts.append(f"<p role='alert' style='color: #a00'>{html.escape(error)}</p>")
    parts.append("<form method='post'>")
    parts.append(f"<input type='hidden' name='form_id' value='{html.escape(form_id)}'>")
    for field in fields:
        kind = "password" if field.secret else "text"
        value = "" if field.secret else html.escape(field.value)
        parts.append(
            f"<p><label>{html.escape(field.label)}<br>"
            f"<input type='{kind}' name='{html.escape(field.name)}' value='{value}' "
            "autocomplete='off' required size='50'></label></p>"
        )
    parts.append("<p><button type='submit'>Sign in</button></p></form>")
    return _page(title, "".join(parts), status)


def device_page(
    provider: str, user_code: str, verification_uri: str, complete: str | None
) -> HTMLResponse:
    """Where to go and which code to enter; the server waits for the platform meanwhile."""
    target = html.escape(complete or verification_uri)
    body = (
        f"<p>Open <a href='{target}' rel='noreferrer' target='_blank'>{target}</a> and enter "
        f"this code:</p><p style='font-size: 2em; font-family: monospace'>"
        f"{html.escape(user_code)}</p><p>Once you have allowed access there, call the "
        f"{html.escape(provider)} tool again. This page need not stay open.</p>"
    )
    return _page(f"Sign in to {provider}", body, 200)


def message_page(title: str, text: str, status: int) -> HTMLResponse:
    """One escaped paragraph under a title, with the sign-in pages' headers."""
    return _page(title, f"<p>{html.escape(text)}</p>", status)
