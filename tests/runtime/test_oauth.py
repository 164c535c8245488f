"""OAuth flow, refresh and revocation against a real authorization server (oauth2-mock-server)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import os
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx2
import pytest
from helpers import CLIENT_ID, CLIENT_SECRET, MockOAuthServer

from multichat.errors import ConfigError
from multichat.runtime import load_config, provider_auth, token_store
from multichat.runtime.auth_app import build_auth_app
from multichat.runtime.loader import activate_workspace
from multichat.runtime.oauth import (
    AuthorizationFlow,
    RefreshRejected,
    load_client_credentials,
    resolve_settings,
)
from multichat.runtime.token_access import reset_provider_auth


@pytest.fixture
def alpha(oauth_workspace: Path):
    """The workspace activated in this process, with a fresh in-memory token state."""
    config = load_config(oauth_workspace / "provider-config.yaml")
    activate_workspace(config)
    reset_provider_auth()
    yield config
    reset_provider_auth()


def _query(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlparse(url).query).items()}


async def _sign_in(app, *, follow: bool = True) -> httpx2.Response:
    """Drive /auth -> the real authorize endpoint -> /auth/callback, as a browser would."""
    transport = httpx2.ASGITransport(app=app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://127.0.0.1") as local:
        start = await local.get("/auth")
        assert start.status_code == 302
        async with httpx2.AsyncClient() as remote:
            consent = await remote.get(start.headers["location"])
        assert consent.status_code == 302
        callback = urlparse(consent.headers["location"])
        return await local.get(f"{callback.path}?{callback.query}")


def _write_token(config, **fields) -> Path:
    path = config.token_path("alpha")
    provider_auth("alpha").store().save(
        {"access_token": "old-access", "token_type": "Bearer", **fields}
    )
    return path


async def test_sign_in_saves_a_0600_token_with_pkce_and_state(alpha, oauth_server: MockOAuthServer):
    response = await _sign_in(build_auth_app("alpha"))
    assert response.status_code == 200
    assert "You can close this tab" in response.text

    token_file = alpha.token_path("alpha")
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    saved = json.loads(token_file.read_text())
    assert saved["access_token"]
    assert saved["refresh_token"]

    stats = oauth_server.stats()
    sent = stats["last_authorize"]
    assert sent["code_challenge_method"] == "S256"
    assert len(sent["state"]) >= 32
    assert sent["redirect_uri"] == alpha.provider("alpha").callback_url
    assert sent["scope"] == "chat:read chat:write"
    verifier = stats["last_token"]["code_verifier"]
    digest = hashlib.sha256(verifier.encode()).digest()
    assert base64.urlsafe_b64encode(digest).rstrip(b"=").decode() == sent["code_challenge"]


async def test_confidential_client_sends_its_secret_in_the_post_body(alpha, oauth_server):
    await _sign_in(build_auth_app("alpha"))
    last = oauth_server.stats()["last_token"]
    assert last["client_id"] == CLIENT_ID
    assert last["client_secret"] == CLIENT_SECRET
    assert last["authorization"] is None


async def test_client_secret_basic_uses_the_authorization_header(alpha, oauth_server):
    path = alpha.path
    path.write_text(
        path.read_text().replace(
            "    revoke_url:",
            "    token_endpoint_auth_method: client_secret_basic\n    revoke_url:",
            1,
        )
    )
    activate_workspace(load_config(path))
    await _sign_in(build_auth_app("alpha"))
    expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    assert oauth_server.stats()["last_token"]["authorization"] == f"Basic {expected}"


async def test_forged_missing_and_reused_states_get_400(alpha, oauth_server):
    app = build_auth_app("alpha")
    transport = httpx2.ASGITransport(app=app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://127.0.0.1") as local:
        forged = await local.get("/auth/callback", params={"code": "x", "state": "forged"})
        missing = await local.get("/auth/callback", params={"code": "x"})
        assert forged.status_code == 400
        assert "unknown or already used state" in forged.text
        assert missing.status_code == 400
        assert "no state" in missing.text

        start = await local.get("/auth")
        async with httpx2.AsyncClient() as remote:
            consent = await remote.get(start.headers["location"])
        callback = urlparse(consent.headers["location"])
        first = await local.get(f"{callback.path}?{callback.query}")
        replay = await local.get(f"{callback.path}?{callback.query}")
    assert first.status_code == 200
    assert replay.status_code == 400
    assert oauth_server.stats()["token"] == {"authorization_code": 1}
    assert not alpha.token_path("alpha").with_name("never").exists()


async def test_no_caller_can_choose_where_the_code_goes(alpha):
    transport = httpx2.ASGITransport(app=build_auth_app("alpha"))
    async with httpx2.AsyncClient(transport=transport, base_url="http://127.0.0.1") as local:
        start = await local.get(
            "/auth", params={"callback_url": "https://evil.example/steal", "redirect_uri": "x"}
        )
    sent = _query(start.headers["location"])
    assert sent["redirect_uri"] == alpha.provider("alpha").callback_url
    assert "evil" not in start.headers["location"]


async def test_denied_consent_is_shown_in_words_and_saves_nothing(alpha, oauth_server):
    oauth_server.configure(deny_next=True)
    app = build_auth_app("alpha")
    response = await _sign_in(app)
    assert response.status_code == 400
    assert "access_denied" in response.text
    assert "Traceback" not in response.text
    assert not alpha.token_path("alpha").exists()
    outcome = app.state.multichat_outcome
    assert outcome.done.is_set()
    assert not outcome.succeeded


async def test_status_reports_without_the_token(alpha):
    app = build_auth_app("alpha")
    await _sign_in(app)
    token = json.loads(alpha.token_path("alpha").read_text())
    transport = httpx2.ASGITransport(app=app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://127.0.0.1") as local:
        status = (await local.get("/status")).json()
    assert status["authenticated"] is True
    assert status["expires_in_seconds"] > 0
    assert status["age_seconds"] >= 0
    for secret in (token["access_token"], token["refresh_token"]):
        assert secret not in json.dumps(status)


def test_expired_token_is_refreshed_once_and_rotation_is_kept(alpha, oauth_server):
    path = _write_token(alpha, refresh_token="refresh-1", expires_at=time.time() - 5)
    credentials = provider_auth("alpha").get_credentials()
    assert credentials is not None
    assert credentials.access_token != "old-access"
    assert oauth_server.refreshes() == 1
    assert oauth_server.stats()["last_token"]["refresh_token"] == "refresh-1"
    stored = json.loads(path.read_text())
    assert stored["access_token"] == credentials.access_token
    assert stored["refresh_token"] != "refresh-1"  # the server rotated it and we kept the new one
    assert provider_auth("alpha").get_credentials() is credentials
    assert oauth_server.refreshes() == 1


def test_a_refresh_without_a_new_refresh_token_keeps_the_old_one():
    from multichat.runtime.oauth import checked_token

    token = checked_token("alpha", {"access_token": "a", "expires_in": 60})
    assert "refresh_token" not in token  # refresh() adds the old one; covered below end to end


def test_token_within_60_seconds_of_expiry_counts_as_expired(alpha, oauth_server):
    _write_token(alpha, refresh_token="r", expires_at=time.time() + 30)
    provider_auth("alpha").get_credentials()
    assert oauth_server.refreshes() == 1


async def test_200_concurrent_callers_make_exactly_one_refresh(alpha, oauth_server):
    oauth_server.configure(token_delay_ms=300)
    _write_token(alpha, refresh_token="refresh-1", expires_at=time.time() - 5)
    auth = provider_auth("alpha")
    results: list[str] = []

    def in_thread() -> None:
        credentials = auth.get_credentials()
        assert credentials is not None
        results.append(credentials.access_token)

    threads = [threading.Thread(target=in_thread) for _ in range(50)]
    for thread in threads:
        thread.start()
    tasks = [auth.aget_credentials() for _ in range(150)]
    answers = await asyncio.gather(*tasks)
    for thread in threads:
        thread.join(timeout=60)
    results += [answer.access_token for answer in answers if answer is not None]
    assert len(results) == 200
    assert len(set(results)) == 1
    assert oauth_server.refreshes() == 1


CALLER = """
import sys, time
from multichat.runtime import load_config, provider_auth
from multichat.runtime.loader import activate_workspace
activate_workspace(load_config(sys.argv[1]))
start_at = float(sys.argv[2])
time.sleep(max(0.0, start_at - time.time()))
credentials = provider_auth("alpha").get_credentials()
print(credentials.access_token if credentials else "none")
"""


def test_four_processes_at_once_make_exactly_one_refresh(alpha, oauth_server):
    oauth_server.configure(token_delay_ms=500)
    _write_token(alpha, refresh_token="refresh-1", expires_at=time.time() - 5)
    start_at = str(time.time() + 2.0)
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", CALLER, str(alpha.path), start_at],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    outputs = [process.communicate(timeout=60) for process in processes]
    tokens = {out.strip() for out, _ in outputs}
    assert all(process.returncode == 0 for process in processes), outputs
    assert len(tokens) == 1
    assert "none" not in tokens
    assert oauth_server.refreshes() == 1


def test_invalid_grant_says_to_sign_in_again_and_keeps_the_file(alpha, oauth_server):
    oauth_server.configure(fail_next_refresh=True)
    path = _write_token(alpha, refresh_token="refresh-1", expires_at=time.time() - 5)
    before = path.read_bytes()
    with pytest.raises(RefreshRejected, match="run `multichat auth alpha`") as caught:
        provider_auth("alpha").get_credentials()
    assert "refresh-1" not in str(caught.value)
    assert path.read_bytes() == before


def test_token_response_without_access_token_is_refused(alpha, oauth_server):
    from multichat.runtime.oauth import OAuthFailed, checked_token

    with pytest.raises(OAuthFailed, match="without an access_token"):
        checked_token("alpha", {"type": "about:blank", "title": "Bad", "detail": "nope"})


def test_missing_token_url_is_one_line_naming_file_and_key(alpha):
    path = alpha.path
    text = path.read_text()
    start = text.index("    token_url:")
    end = text.index("\n", start)
    path.write_text(text[:start] + '    token_url: ""' + text[end:])
    with pytest.raises(ConfigError) as caught:
        resolve_settings(load_config(path), "alpha")
    message = str(caught.value)
    assert str(path) in message
    assert "providers.alpha.oauth.token_url" in message
    assert "\n" not in message


def test_client_credentials_env_wins_and_google_shape_is_read(alpha, monkeypatch):
    credentials_file = alpha.credentials_path("alpha")
    credentials_file.write_text(
        json.dumps({"installed": {"client_id": "g-id", "client_secret": "g-s"}})
    )
    assert load_client_credentials(alpha, "alpha").client_id == "g-id"
    monkeypatch.setenv("MULTICHAT_ALPHA_CLIENT_ID", "env-id")
    monkeypatch.setenv("MULTICHAT_ALPHA_CLIENT_SECRET", "env-secret")
    client = load_client_credentials(alpha, "alpha")
    assert (client.client_id, client.client_secret) == ("env-id", "env-secret")
    assert "env-secret" not in repr(client)


def test_missing_client_id_names_both_ways(alpha):
    alpha.credentials_path("alpha").unlink()
    with pytest.raises(ConfigError) as caught:
        load_client_credentials(alpha, "alpha")
    assert "credentials.json" in str(caught.value)
    assert "MULTICHAT_ALPHA_CLIENT_ID" in str(caught.value)


def test_public_client_uses_pkce_without_a_secret(alpha, oauth_server, monkeypatch):
    alpha.credentials_path("alpha").write_text(json.dumps({"client_id": "public-app"}))
    asyncio.run(_sign_in(build_auth_app("alpha")))
    last = oauth_server.stats()["last_token"]
    assert last["client_id"] == "public-app"
    assert "client_secret" not in last
    assert last["code_verifier"]


def test_flow_checks_settings_before_any_redirect(alpha):
    flow = AuthorizationFlow(alpha, "alpha")
    first = _query(flow.authorization_url())
    second = _query(flow.authorization_url())
    assert first["state"] != second["state"]
    assert first["code_challenge"] != second["code_challenge"]


KILLER = """
import importlib.util, sys
from pathlib import Path
# Load the store's module alone: the runtime package would import FastMCP, a second per round.
spec = importlib.util.spec_from_file_location("token_store", sys.argv[2])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
store = module.JsonFileTokenStore(Path(sys.argv[1]))
i = 0
print("go", flush=True)
while True:
    i += 1
    store.save({"access_token": "t%d" % i, "padding": "x" * 50000})
"""


def test_sigkill_while_saving_leaves_a_whole_token_file(tmp_path):
    path = tmp_path / "token.json"
    path.write_text(json.dumps({"access_token": "t0"}))
    # As the store leaves it: a round killed before its first save (a loaded machine) finds
    # this file, and the mode asserted below is the store's, not the test's umask.
    path.chmod(0o600)
    for round_number in range(30):
        process = subprocess.Popen(
            [sys.executable, "-c", KILLER, str(path), token_store.__file__],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "go"
        time.sleep(0.02 + (round_number % 5) * 0.013)
        process.kill()
        process.wait(timeout=10)
        data = json.loads(path.read_text())
        assert data["access_token"].startswith("t")
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    # A killed writer may leave its own temporary file; never a partial token.json.
    assert all(name.startswith(".token.json.") for name in leftovers)


async def test_no_secret_reaches_a_log_record_at_debug(alpha, oauth_server, caplog, capfd):
    caplog.set_level(logging.DEBUG)
    app = build_auth_app("alpha")
    await _sign_in(app)
    token_file = alpha.token_path("alpha")
    first = json.loads(token_file.read_text())
    stale = {**first, "expires_at": time.time() - 5}
    token_file.write_text(json.dumps(stale))
    reset_provider_auth()
    refreshed = await provider_auth("alpha").aget_credentials()
    assert refreshed is not None
    transport = httpx2.ASGITransport(app=app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://127.0.0.1") as local:
        await local.get("/status")
    secrets = [
        first["access_token"],
        first["refresh_token"],
        refreshed.access_token,
        str(refreshed["refresh_token"]),
        CLIENT_SECRET,
    ]
    logged = "\n".join(record.getMessage() for record in caplog.records)
    logged += "\n".join(repr(record.args) for record in caplog.records)
    out, err = capfd.readouterr()
    assert caplog.records  # the flow did log something at DEBUG
    for secret in secrets:
        assert secret not in logged
        assert secret not in out + err
    assert secrets[2] not in repr(refreshed)


def test_pending_states_are_bounded():
    from multichat.runtime.oauth import MAX_PENDING_STATES, InvalidState, PendingStates

    states = PendingStates()
    first, _ = states.issue()
    issued = [states.issue()[0] for _ in range(MAX_PENDING_STATES)]
    with pytest.raises(InvalidState):
        states.take(first)  # the oldest was dropped to keep the bound
    assert states.take(issued[-1])


def test_the_sign_in_app_answers_only_its_own_loopback_name(alpha):
    """DNS rebinding (issue 11, finding 6): /status named evil.example was served before."""
    from helpers import free_port

    from multichat.runtime.local_signin import serving

    port = free_port()
    url = f"http://127.0.0.1:{port}/status"
    with serving(build_auth_app("alpha"), port, "alpha"):
        own = [
            httpx2.get(url, headers={"Host": host}, timeout=10)
            for host in (f"127.0.0.1:{port}", f"localhost:{port}")
        ]
        foreign = [
            httpx2.get(url, headers={"Host": host}, timeout=10)
            for host in ("evil.example", f"evil.example:{port}", f"127.0.0.1:{port + 1}")
        ]
        origin = httpx2.get(url, headers={"Origin": "http://evil.example"}, timeout=10)
        started = httpx2.get(
            f"http://127.0.0.1:{port}/auth", headers={"Host": "evil.example"}, timeout=10
        )

    assert [response.status_code for response in own] == [200, 200]
    assert [response.status_code for response in foreign] == [421, 421, 421]
    assert all("token_path" not in response.text for response in foreign)
    assert origin.status_code == 403
    assert started.status_code == 421


def test_user_scopes_and_a_nested_user_token_as_slack_has_them(alpha, monkeypatch):
    """Slack's user tokens (docs.slack.dev/authentication/installing-with-oauth).

    oauth.scope_param sends the scopes as user_scope (no scope); oauth.token_key takes the
    user's token from authed_user.
    """
    from helpers import set_provider_keys

    from multichat.runtime.oauth import AuthorizationFlow, _user_token

    path = alpha.path
    oauth = dict(alpha.raw["alpha"]["oauth"], scope_param="user_scope", token_key="authed_user")
    set_provider_keys(path.parent, "alpha", oauth=oauth)
    flow = AuthorizationFlow(load_config(path), "alpha")
    query = _query(flow.authorization_url())
    assert query["user_scope"] == "chat:read chat:write"
    assert "scope" not in query

    answer = {
        "ok": True,
        "access_token": "xoxb-bot",
        "team": {"id": "T1"},
        "authed_user": {"id": "U1", "access_token": "xoxp-user", "token_type": "user"},
    }
    token = _user_token(flow.settings, answer)
    assert token["access_token"] == "xoxp-user"
    assert token["team"] == {"id": "T1"}
    assert _user_token(flow.settings, {"access_token": "plain"})["access_token"] == "plain"
