"""The sandbox's fault knobs: 429 with Retry-After, 5xx and latency, in-process and over HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import httpx2
import pytest

from multichat.sandbox import (
    SANDBOX_CLIENT_ID,
    Faults,
    SandboxServer,
    get_faults,
    issue_tokens,
    set_faults,
)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(seed=False) as server:
        yield server


@pytest.fixture
def api(sandbox: SandboxServer) -> Iterator[httpx2.Client]:
    token = issue_tokens(sandbox.app.state.db, SANDBOX_CLIENT_ID, "U01", ["chat:read"])
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    with httpx2.Client(base_url=sandbox.url, headers=headers, timeout=10) as http:
        yield http
    set_faults(sandbox.app)


@pytest.fixture
def admin(sandbox: SandboxServer) -> Iterator[httpx2.Client]:
    headers = {"X-Sandbox-Admin": sandbox.admin_token}
    with httpx2.Client(base_url=sandbox.url, headers=headers, timeout=10) as http:
        yield http
    set_faults(sandbox.app)


def statuses(http: httpx2.Client, count: int, path: str = "/api/v1/me") -> list[int]:
    return [http.get(path).status_code for _ in range(count)]


def test_faults_are_off_by_default(api: httpx2.Client, admin: httpx2.Client):
    assert statuses(api, 5) == [200] * 5
    assert admin.get("/admin/faults").json() == Faults().model_dump()


def test_the_admin_endpoint_needs_the_admin_token(sandbox: SandboxServer, api: httpx2.Client):
    for headers in ({}, {"X-Sandbox-Admin": "wrong"}):
        for method in ("GET", "POST"):
            response = httpx2.request(
                method, f"{sandbox.url}/admin/faults", headers=headers, json={}, timeout=10
            )
            assert response.status_code == 401
            assert response.json()["error"]["code"] == "unauthorized"
    assert statuses(api, 3) == [200] * 3


def test_injected_429s_carry_retry_after(api: httpx2.Client, admin: httpx2.Client):
    set_to = admin.post("/admin/faults", json={"rate_limit_fraction": 1.0, "retry_after": 7})
    assert set_to.status_code == 200
    assert set_to.json()["rate_limit_fraction"] == 1.0
    response = api.get("/api/v1/me")
    assert response.status_code == 429
    assert response.headers["retry-after"] == "7"
    assert response.json()["error"]["code"] == "rate_limited"


def test_injected_server_errors(api: httpx2.Client, admin: httpx2.Client):
    admin.post("/admin/faults", json={"server_error_fraction": 1.0, "server_error_status": 502})
    response = api.get("/api/v1/channels")
    assert response.status_code == 502
    assert response.json()["error"]["code"] == "server_error"


def test_latency_is_added_and_announced(api: httpx2.Client, admin: httpx2.Client):
    admin.post("/admin/faults", json={"latency_ms": 20})
    response = api.get("/api/v1/me")
    assert response.status_code == 200
    assert response.headers["x-sandbox-latency-ms"] == "20"


def test_faults_can_be_limited_to_a_path_prefix(api: httpx2.Client, sandbox: SandboxServer):
    set_faults(
        sandbox.app,
        rate_limit_fraction=1.0,
        rate_limit_path_prefix="/api/v1/channels",
        latency_ms=5,
        latency_path_prefix="/api/v1/me",
    )
    assert api.get("/api/v1/channels").status_code == 429
    me = api.get("/api/v1/me")
    assert me.status_code == 200
    assert me.headers["x-sandbox-latency-ms"] == "5"
    assert "x-sandbox-latency-ms" not in api.get("/api/v1/users").headers


def test_oauth_and_admin_are_never_faulted(
    api: httpx2.Client, admin: httpx2.Client, sandbox: SandboxServer
):
    set_faults(sandbox.app, rate_limit_fraction=1.0, server_error_fraction=1.0)
    token = api.post("/oauth/token", data={"grant_type": "refresh_token", "client_id": "x"})
    assert token.status_code == 401
    assert token.json()["error"] == "invalid_client"
    assert api.get("/oauth/authorize").status_code == 400
    assert admin.get("/admin/faults").status_code == 200
    assert api.get("/openapi.json").status_code == 200
    assert api.get("/api/v1/me").status_code == 429


def test_a_seed_makes_the_faults_repeatable(api: httpx2.Client, sandbox: SandboxServer):
    runs = []
    for _ in range(2):
        set_faults(sandbox.app, Faults(rate_limit_fraction=0.3, server_error_fraction=0.3, seed=7))
        runs.append(statuses(api, 30))
    assert runs[0] == runs[1]
    assert {200, 429, 503} <= set(runs[0])


def test_faults_are_settable_in_process(api: httpx2.Client, sandbox: SandboxServer):
    sandbox.app.state.faults = Faults(server_error_fraction=1.0)
    assert api.get("/api/v1/me").status_code == 503
    faults = get_faults(sandbox.app)
    faults.server_error_fraction = 0.0
    assert api.get("/api/v1/me").status_code == 200


def test_bad_fault_settings_are_rejected(admin: httpx2.Client, sandbox: SandboxServer):
    for body in ({"rate_limit_fraction": 2}, {"latency": 5}, {"server_error_status": 200}):
        response = admin.post("/admin/faults", json=body)
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "invalid_request"
    assert get_faults(sandbox.app) == Faults()


def test_the_app_can_start_with_faults():
    with SandboxServer(seed=False, faults=Faults(rate_limit_fraction=1.0, retry_after=3)) as server:
        response = httpx2.get(f"{server.url}/api/v1/me", timeout=10)
        assert response.status_code == 429
        assert response.headers["retry-after"] == "3"
