"""Fuzzing a generated provider's auth app (/auth, /auth/callback, /status) with schemathesis.

The app runs in-process over ASGI for a workspace whose provider ``alpha`` signs in at a real
authorization server (oauth2-mock-server). Each response must be below 500 and match the
status, content type and body schema its OpenAPI description gives. A drawn ``state`` is one
the app never issued, so it is refused before anything else is looked at; one callback in five
therefore carries a live state from ``/auth`` instead, which takes the drawn ``code``, ``error``
and ``error_description`` on to the code exchange with the authorization server.

Every input of the app is an optional string, so there is no schema-invalid request to draw:
the cases are positive ones, and the strings hold any Unicode, including NUL.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from multichat.runtime import load_config
from multichat.runtime.auth_app import build_auth_app
from multichat.runtime.loader import activate_workspace
from multichat.runtime.token_access import reset_provider_auth

EXAMPLES = 1000  # per operation; /auth and /status take no input, so they give one case each
MIN_CASES = 1000

# The schema cannot say "a state this app issued", so a well-formed callback may get the
# documented 400: that is not a rejected valid request.
CONFIG = {"checks": {"positive_data_acceptance": {"enabled": False}}}
# A live state costs a round trip to /auth and often one to the token endpoint.
ONE_IN_FIVE = st.sampled_from([False, False, False, False, True])
CALLBACK = "/auth/callback"
REFUSED_STATE = "Sign-in rejected"  # the page title for a missing, unknown or reused state


@pytest.fixture
def alpha(oauth_workspace: Path) -> Iterator[Any]:
    """The workspace activated in this process, with a fresh in-memory token state."""
    config = load_config(oauth_workspace / "provider-config.yaml")
    activate_workspace(config)
    reset_provider_auth()
    yield config
    reset_provider_auth()


def _state_of(response: Any) -> str:
    """The ``state`` of the consent-page URL that ``/auth`` redirected to."""
    [location] = response.headers["location"]  # schemathesis keeps every header as a list
    return parse_qs(urlsplit(location).query)["state"][0]


def test_fuzzing_the_auth_app_finds_no_5xx_and_no_off_schema_response(alpha):
    app = build_auth_app("alpha")
    schema = schemathesis.openapi.from_asgi(
        "/openapi.json", app, config=schemathesis.Config.from_dict(CONFIG)
    )
    start = schema["/auth"]["GET"]
    ran = past_the_state = 0
    statuses: dict[tuple[str, int], int] = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        lives = ONE_IN_FIVE if operation.path == CALLBACK else st.just(False)

        @given(case=operation.as_strategy(), live=lives)
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any, live: bool) -> None:
            nonlocal ran, past_the_state
            ran += 1
            if live:
                case.query = {**(case.query or {}), "state": _state_of(start.Case().call())}
            response = case.call_and_validate()
            if case.operation.path == CALLBACK and REFUSED_STATE not in response.text:
                past_the_state += 1
            key = (case.operation.label, response.status_code)
            statuses[key] = statuses.get(key, 0) + 1

        run()

    print(f"auth app: {ran} cases ({past_the_state} callbacks past the state check): {statuses}")
    assert ran >= MIN_CASES
    assert past_the_state > 0


# ---- regressions: the description did not match what the routes send ------------------------


@pytest.fixture
def client() -> Callable[[Any], httpx2.AsyncClient]:
    def make(app: Any) -> httpx2.AsyncClient:
        transport = httpx2.ASGITransport(app=app, raise_app_exceptions=False)
        return httpx2.AsyncClient(transport=transport, base_url="http://127.0.0.1")

    return make


def _documented(app: Any, path: str, response: httpx2.Response) -> dict[str, Any]:
    responses = app.openapi()["paths"][path]["get"]["responses"]
    assert str(response.status_code) in responses, (path, response.status_code)
    documented: dict[str, Any] = responses[str(response.status_code)]
    return documented


async def test_the_auth_app_documents_every_status_and_content_type_it_sends(alpha, client):
    app = build_auth_app("alpha")
    async with client(app) as local:
        start = await local.get("/auth")
        refused = await local.get("/auth/callback", params={"code": "x", "state": "forged"})
        status = await local.get("/status")
    assert start.status_code == 302
    assert "content" not in _documented(app, "/auth", start)
    assert refused.status_code == 400
    assert "text/html" in _documented(app, "/auth/callback", refused)["content"]
    assert status.status_code == 200
    assert "application/json" in _documented(app, "/status", status)["content"]


async def test_an_unconfigured_provider_gets_a_documented_400_page_from_auth(
    workspace: Path, add_provider: Callable[..., Path], client
):
    add_provider("alpha")
    activate_workspace(load_config(workspace / "provider-config.yaml"))
    reset_provider_auth()
    app = build_auth_app("alpha")
    async with client(app) as local:
        start = await local.get("/auth")
    assert start.status_code == 400, start.text
    assert "text/html" in _documented(app, "/auth", start)["content"]
    assert start.headers["content-type"].startswith("text/html")
