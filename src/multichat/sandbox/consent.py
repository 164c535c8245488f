"""The HTML of the consent page and of the authorization server's error page, and their frame.

Every page of the sandbox is built with :func:`html_document` and sent with
:data:`PAGE_HEADERS`: no framing, no caching.
"""

from __future__ import annotations

from html import escape

from fastapi.responses import HTMLResponse

from multichat.sandbox.scopes import SCOPE_WORDS

_STYLE = """
body { font-family: system-ui, sans-serif; background: #f4f5f7; color: #1d1c1d; margin: 0; }
main { max-width: 30em; margin: 4em auto; background: #fff; padding: 2em 2.5em;
       border-radius: 8px; box-shadow: 0 1px 4px rgba(0, 0, 0, .15); }
h1 { font-size: 1.3em; } ul { padding-left: 1.2em; } li { margin: .4em 0; }
.who, .where { color: #616061; font-size: .9em; }
.buttons { display: flex; gap: 1em; margin-top: 1.5em; }
button { font-size: 1em; padding: .6em 1.6em; border-radius: 4px; cursor: pointer;
         border: 1px solid #8d8d8d; background: #fff; }
#allow, .primary { background: #007a5a; border-color: #007a5a; color: #fff; }
label { display: block; margin: .8em 0 .2em; font-weight: 600; }
input[type=text], input[type=password], select { font-size: 1em; padding: .4em; width: 100%;
       box-sizing: border-box; border: 1px solid #8d8d8d; border-radius: 4px; }
fieldset { border: 0; padding: 0; margin: .8em 0; } fieldset label { font-weight: normal; }
.error { color: #b00020; } code { font-size: 1.05em; word-break: break-all; }
.code { font-size: 1.6em; letter-spacing: .1em; font-weight: 600; white-space: nowrap; }
"""

# The page must not be framed (clickjacking) nor cached (it carries a CSRF token).
PAGE_HEADERS = {
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "Cache-Control": "no-store",
}


def html_document(title: str, body: str) -> str:
    """A whole page: ``title`` and ``body`` (already escaped HTML) in the sandbox's style."""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><main>{body}</main></body></html>"
    )


def consent_page(
    *,
    app_name: str,
    user_name: str,
    username: str,
    scopes: list[str],
    where: str,
    fields: dict[str, str],
    action: str = "/oauth/authorize",
) -> HTMLResponse:
    """The page asking the signed-in user to allow or deny ``app_name`` the ``scopes``.

    ``where`` is a line saying what happens next; the form posts ``fields`` to ``action``.
    """
    items = "".join(
        f"<li><strong>{escape(scope)}</strong>: {escape(SCOPE_WORDS.get(scope, scope))}</li>"
        for scope in scopes
    )
    hidden = "".join(
        f'<input type="hidden" name="{escape(name)}" value="{escape(value)}">'
        for name, value in fields.items()
    )
    body = (
        f'<h1>Allow <span id="app-name">{escape(app_name)}</span> to use your sandbox account?'
        "</h1>"
        f'<p class="who">Signed in as <strong id="user-name">{escape(user_name)}</strong>'
        f" (@{escape(username)})</p>"
        f'<p>{escape(app_name)} is asking to:</p><ul id="scopes">{items}</ul>'
        f'<p class="where">{escape(where)}</p>'
        f'<form method="post" action="{escape(action)}">{hidden}'
        '<div class="buttons">'
        '<button name="decision" value="allow" id="allow">Allow</button>'
        '<button name="decision" value="deny" id="deny">Deny</button>'
        "</div></form>"
    )
    return HTMLResponse(html_document(f"Allow {app_name}?", body), headers=PAGE_HEADERS)


def error_page(title: str, message: str, status: int = 400) -> HTMLResponse:
    """An error shown in the browser instead of redirecting to an unverified URI."""
    body = f'<h1>{escape(title)}</h1><p id="error">{escape(message)}</p>'
    return HTMLResponse(html_document(title, body), status_code=status, headers=PAGE_HEADERS)
