"""Answer an OAuth consent page the way a browser does: read its form, press a button.

Used by the demo (and tests) to sign in to the sandbox without a person: the same GET and form
POST a browser would send, through the real consent page and its CSRF token.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin

import httpx2

from multichat.errors import MultichatError


class ConsentPageError(MultichatError):
    """The page that came back is not a consent form we can answer."""


@dataclass
class _Form:
    action: str = ""
    method: str = "get"
    fields: dict[str, str] = field(default_factory=dict)
    buttons: dict[str, tuple[str, str]] = field(default_factory=dict)


class _FormReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.form: _Form | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "form" and self.form is None:
            self.form = _Form(action=values.get("action", ""), method=values.get("method", "get"))
        elif self.form is not None and tag == "input" and values.get("name"):
            self.form.fields[values["name"]] = values.get("value", "")
        elif self.form is not None and tag == "button" and values.get("name"):
            key = values.get("id") or values.get("value", "")
            self.form.buttons[key] = (values["name"], values.get("value", ""))


def answer_consent(
    sign_in_url: str, decision: str = "allow", timeout: float = 30.0
) -> httpx2.Response:
    """Open ``sign_in_url``, follow redirects to the consent form, press ``decision``.

    Returns the final response (the provider's callback page).
    """
    with httpx2.Client(follow_redirects=True, timeout=timeout) as browser:
        page = browser.get(sign_in_url)
        reader = _FormReader()
        reader.feed(page.text)
        form = reader.form
        if form is None or decision not in form.buttons:
            raise ConsentPageError(
                f"expected a consent form with a {decision!r} button at {page.url} "
                f"(HTTP {page.status_code})"
            )
        name, value = form.buttons[decision]
        target = urljoin(str(page.url), form.action)
        return browser.post(target, data={**form.fields, name: value})
