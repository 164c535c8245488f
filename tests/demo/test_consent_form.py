"""``answer_consent``: the demo's browser stand-in, against the sandbox and a provider's auth app.

The provider's local auth app (``build_auth_app``) is served on its configured port, the sandbox
on another; ``answer_consent`` follows the same redirects and posts the same form a browser does.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import free_port

from multichat.demo.consent_form import ConsentPageError, answer_consent
from multichat.runtime import build_auth_app, load_config, provider_auth
from multichat.runtime.loader import activate_workspace
from multichat.sandbox import SandboxServer

PROVIDER = "chat"


@pytest.fixture
def auth_app(workspace: Path, sandbox: SandboxServer) -> Iterator[tuple[Any, str, Path]]:
    """The provider's auth app on its callback port: (app, its /auth URL, the token file)."""
    from multichat.generator.provider import add_provider

    port = free_port()
    add_provider(
        PROVIDER,
        config_path=workspace / "provider-config.yaml",
        preset="sandbox",
        data={"platform_url": sandbox.url, "port": port},
    )
    config = load_config(workspace / "provider-config.yaml")
    activate_workspace(config)
    app = build_auth_app(PROVIDER)
    with SandboxServer(app=app, port=port) as served:
        yield app, f"{served.url}/auth", config.token_path(PROVIDER)
    provider_auth(PROVIDER).forget()


def test_allow_signs_in_and_saves_the_token(auth_app):
    app, url, token_path = auth_app

    page = answer_consent(url)

    outcome = app.state.multichat_outcome
    assert page.status_code == 200
    assert "Signed in to chat" in page.text
    assert outcome.done.is_set()
    assert outcome.succeeded is True
    assert token_path.is_file()
    assert token_path.stat().st_mode & 0o777 == 0o600
    assert provider_auth(PROVIDER).status()["authenticated"] is True


def test_deny_ends_the_sign_in_with_access_denied(auth_app):
    app, url, token_path = auth_app

    page = answer_consent(url, decision="deny")

    outcome = app.state.multichat_outcome
    assert page.status_code == 400
    assert "access_denied" in page.text
    assert outcome.done.is_set()
    assert outcome.succeeded is False
    assert "access_denied" in outcome.message
    assert not token_path.exists()


def test_a_page_without_a_consent_form_raises(sandbox):
    with pytest.raises(ConsentPageError, match="expected a consent form"):
        answer_consent(f"{sandbox.url}/")
    # The sandbox's error page for an invalid request has no form either.
    with pytest.raises(ConsentPageError, match="HTTP 400"):
        answer_consent(f"{sandbox.url}/oauth/authorize?client_id=nobody")


def test_a_decision_the_form_does_not_offer_raises(auth_app):
    app, url, token_path = auth_app

    with pytest.raises(ConsentPageError, match="'maybe' button"):
        answer_consent(url, decision="maybe")

    assert not app.state.multichat_outcome.done.is_set()
    assert not token_path.exists()
