"""Several ``multichat run --multi-user --stateless`` instances on one Redis act as one server.

Real parts only: two ``multichat run`` processes (the installed console script) started at the
same moment on one workspace, with the same public URL (instance A's address stands for the
load balancer's); redis-server on 127.0.0.1 with a password; oidc-provider (npm) as the team's
identity provider; the sandbox as the platform, with its OAuth server. A person signs in
through one instance and is served by the other; a sign-in link made by one is taken by the
other, once. docs/deploy.md ("Several instances") says what these tests check.
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import anyio.to_thread
import httpx2
import pytest
from fastmcp import Client
from fastmcp.client.auth import OAuth
from helpers import (
    MULTICHAT,
    HtmlForm,
    clean_env,
    free_port,
    run_cli,
    stop_process,
)
from support.mcp_oauth import oauth_client
from support.oidc_provider import OidcProviderServer
from support.redis_server import RedisServer
from support.team_processes import (
    PROVIDER,
    refused_link,
    sign_in_at_the_sandbox,
    team_workspace,
    wait_until_serving,
    whoami,
)

from multichat.runtime import load_config
from multichat.runtime.config import REDIS_URL_ENV, TOKEN_DIR_ENV
from multichat.runtime.redis_token_store import RedisPlace, default_namespace
from multichat.runtime.shared_proxy import PROXY_KEY_ENV, agreed_key
from multichat.sandbox import SANDBOX_PERSONAL_TOKENS, SandboxServer

pytestmark = pytest.mark.filterwarnings("ignore:Using in-memory token storage:UserWarning")


@dataclass
class Instances:
    """Two running instances: their own URLs (A's is also the public one) and their logs."""

    a: str
    b: str
    workspace: Path
    logs: list[Path]
    secrets: list[str] = field(default_factory=list)

    def everything_said(self) -> str:
        return "\n".join(log.read_text() for log in self.logs)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    """The sandbox, polling device codes without its five-second interval."""
    with SandboxServer(device_interval=0) as server:
        yield server


@pytest.fixture
def instances(
    request: pytest.FixtureRequest,
    workspace: Path,
    add_provider,
    sandbox: SandboxServer,
    oidc_provider: OidcProviderServer,
    redis_server: RedisServer,
    redis_url: str,
    tmp_path: Path,
) -> Iterator[Instances]:
    """Two ``run --multi-user --stateless`` processes on one Redis, started at the same time.

    The provider signs people in by the ``auth.mode`` given as the parameter (``oauth``).
    """
    del add_provider
    mode = getattr(request, "param", "oauth")
    ports = [free_port(), free_port()]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    secret = team_workspace(workspace, sandbox, oidc_provider, urls[0], mode)
    env = clean_env(MULTICHAT_OIDC_CLIENT_SECRET=secret, **{REDIS_URL_ENV: redis_url})
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for port, log in zip(ports, logs, strict=True):
            # Each instance its own token folder, as in its own container: nothing is shared
            # through files.
            own = {**env, TOKEN_DIR_ENV: str(log.with_suffix(".tokens"))}
            with log.open("w") as output:
                processes.append(
                    subprocess.Popen(
                        [
                            MULTICHAT, "run", "--transport", "http", "--multi-user",
                            "--stateless", "--port", str(port), "--public-url", urls[0],
                        ],
                        cwd=workspace,
                        env=own,
                        stdout=output,
                        stderr=subprocess.STDOUT,
                    )
                )  # fmt: skip
        for url, process, log in zip(urls, processes, logs, strict=True):
            wait_until_serving(url, process, log)
        yield Instances(
            urls[0], urls[1], workspace, logs, [secret, redis_server.password, redis_url]
        )
    finally:
        for process in processes:
            stop_process(process)


def bearer_of(client: Client[Any]) -> str:
    """The access token the OIDC proxy gave ``client`` (it has signed in)."""
    auth = client.transport.auth  # type: ignore[attr-defined]
    assert isinstance(auth, OAuth)
    tokens = auth.context.current_tokens
    assert tokens is not None
    return tokens.access_token


def on(instance_url: str, link: str) -> str:
    """``link`` with its address replaced by ``instance_url``: what a balancer may do."""
    parts = urlsplit(link)
    return instance_url + parts.path + "?" + parts.query


async def test_a_client_signed_in_through_one_instance_is_served_by_the_other(
    instances: Instances, oidc_provider: OidcProviderServer, redis_server: RedisServer
):
    async with oauth_client(instances.a, oidc_provider, "alice") as alice:
        link = await refused_link(alice)
        bearer = bearer_of(alice)
        instances.secrets += [bearer, parse_qs(urlsplit(link).query)["ticket"][0]]
        page = await anyio.to_thread.run_sync(sign_in_at_the_sandbox, link, "ada")
        assert "Signed in" in page

    # The token A's proxy issued is good at B, and B finds her platform token.
    async with Client(f"{instances.b}/mcp", auth=bearer, timeout=30) as alice_on_b:
        assert await whoami(alice_on_b) == "U01"

    client = redis_server.client(1)
    keys = {key.decode() for key in client.keys("*")}
    namespace = default_namespace(load_config(instances.workspace / "provider-config.yaml"))
    proxy = f"multichat:{namespace}:oauth-proxy"
    assert f"{proxy}:key" in keys
    stored = [key for key in keys if key.startswith(f"{proxy}__")]
    assert stored, keys
    for key in stored:
        if client.type(key) == b"string":
            assert b"access_token" not in client.get(key)  # upstream tokens are encrypted
    assert any(key.startswith(f"multichat:{namespace}:{PROVIDER}:") for key in keys), keys
    for log in instances.logs:  # nothing of the proxy went to an instance's own folder
        assert not (log.with_suffix(".tokens") / "oauth-proxy").exists()

    said = instances.everything_said()
    assert "tool=chat_whoami outcome=ok" in said  # the logs were written, and are checked
    for secret in [*instances.secrets, client.get(f"{proxy}:key").decode()]:
        assert secret not in said


async def test_a_sign_in_link_made_by_one_instance_works_once_on_the_other(
    instances: Instances, oidc_provider: OidcProviderServer
):
    async with oauth_client(instances.a, oidc_provider, "alice") as alice:
        link = await refused_link(alice)  # made by A
        bearer = bearer_of(alice)
    instances.secrets += [bearer, parse_qs(urlsplit(link).query)["ticket"][0]]

    # B takes A's ticket; the platform sends the browser back to the public address (A).
    page = await anyio.to_thread.run_sync(sign_in_at_the_sandbox, on(instances.b, link), "ada")
    assert "Signed in" in page
    async with Client(f"{instances.b}/mcp", auth=bearer, timeout=30) as alice_on_b:
        assert await whoami(alice_on_b) == "U01"

    async with httpx2.AsyncClient(timeout=10) as browser:  # used up, on every instance
        for url in (link, on(instances.b, link)):
            assert (await browser.get(url)).status_code == 400
    said = instances.everything_said()
    for secret in instances.secrets:
        assert secret not in said


@pytest.mark.parametrize("instances", ["token"], indirect=True)
async def test_a_form_opened_on_one_instance_is_taken_by_the_other_once(
    instances: Instances, oidc_provider: OidcProviderServer
):
    async with oauth_client(instances.a, oidc_provider, "bob") as bob:
        link = await refused_link(bob)
        bearer = bearer_of(bob)
    token = SANDBOX_PERSONAL_TOKENS["alan"]
    instances.secrets += [bearer, token]
    with httpx2.Client(timeout=15) as browser:
        page = browser.get(on(instances.b, link))
        assert page.status_code == 200, page.text
        form = HtmlForm(page.text)
        sent = browser.post(
            f"{instances.a}/signin/{PROVIDER}", data={**form.fields, "token": token}
        )
        assert sent.status_code == 200, sent.text
        assert "Signed in" in sent.text
        again = browser.post(
            f"{instances.b}/signin/{PROVIDER}", data={**form.fields, "token": token}
        )
        assert again.status_code == 400
    async with Client(f"{instances.b}/mcp", auth=bearer, timeout=30) as bob_on_b:
        assert await whoami(bob_on_b) == "U03"
    said = instances.everything_said()
    for secret in instances.secrets:
        assert secret not in said


@pytest.mark.parametrize("instances", ["device"], indirect=True)
async def test_a_device_page_reloads_on_any_instance_for_its_browser_only(
    instances: Instances, oidc_provider: OidcProviderServer, sandbox: SandboxServer
):
    async with oauth_client(instances.a, oidc_provider, "bob") as bob:
        link = await refused_link(bob)
        bearer = bearer_of(bob)
    with httpx2.Client(timeout=15) as browser, httpx2.Client(timeout=15) as stranger:
        page = browser.get(on(instances.b, link))  # B asks for the code and polls
        assert page.status_code == 200, page.text
        code = page.text.split("font-family: monospace'>", 1)[1].split("<", 1)[0]
        reloaded = browser.get(link)  # the same page, from A
        assert reloaded.status_code == 200, reloaded.text
        assert code in reloaded.text
        assert stranger.get(link).status_code == 400

        allowed = httpx2.post(
            f"{sandbox.url}/admin/device-codes/{code}/approve",
            json={"username": "alan"},
            headers={"X-Sandbox-Admin": sandbox.admin_token},
            timeout=15,
        )
        assert allowed.status_code == 200, allowed.text
        deadline = time.monotonic() + 30
        while "Signed in" not in reloaded.text and time.monotonic() < deadline:
            time.sleep(0.2)  # B polls the sandbox in the background; A shows what B saw
            reloaded = browser.get(link)
        assert "Signed in" in reloaded.text, reloaded.text
    async with Client(f"{instances.a}/mcp", auth=bearer, timeout=30) as bob_on_a:
        assert await whoami(bob_on_a) == "U03"
    said = instances.everything_said()
    for secret in [*instances.secrets, bearer, code]:
        assert secret not in said


def test_instances_started_at_once_agree_on_one_key(redis_server: RedisServer, redis_url: str):
    place = RedisPlace(redis_url, "race")
    barrier = threading.Barrier(8)
    agreed: list[str] = []

    def start() -> None:
        barrier.wait(timeout=10)
        agreed.append(agreed_key(place))

    threads = [threading.Thread(target=start) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert len(agreed) == 8
    assert len(set(agreed)) == 1
    assert redis_server.client(1).get(place.key("oauth-proxy", "key")).decode() == agreed[0]


def test_run_with_redis_down_says_so_in_one_line(
    workspace: Path, add_provider, oidc_provider: OidcProviderServer
):
    add_provider("alpha")
    config = workspace / "provider-config.yaml"
    config.write_text(
        config.read_text()
        + "server:\n  public_url: http://127.0.0.1:9\n  auth:\n    oidc:\n"
        + f"      issuer: {oidc_provider.url}\n      client_id: team\n"
    )
    password = "redis-password-never-shown"
    result = run_cli(
        "run", "--transport", "http", "--multi-user", "--port", "0",
        cwd=workspace,
        timeout=60,
        env={
            REDIS_URL_ENV: f"redis://:{password}@127.0.0.1:{free_port()}/0",
            "MULTICHAT_OIDC_CLIENT_SECRET": "idp-client-secret",
        },
    )  # fmt: skip

    assert result.returncode == 1, result.stderr
    assert "cannot reach Redis at redis://:***@127.0.0.1:" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert password not in result.stderr + result.stdout


def test_a_given_proxy_key_is_used_and_a_short_one_refused(
    workspace: Path, add_provider, redis_server: RedisServer, redis_url: str, monkeypatch
):
    from multichat.errors import UserError
    from multichat.runtime.shared_proxy import shared_key

    place = RedisPlace(redis_url, "given")
    given = "k" * 40
    monkeypatch.setenv(PROXY_KEY_ENV, given)
    assert shared_key(place) == given
    assert redis_server.client(1).get(place.key("oauth-proxy", "key")) is None
    monkeypatch.setenv(PROXY_KEY_ENV, "short-key")
    with pytest.raises(UserError, match=PROXY_KEY_ENV) as refused:
        shared_key(place)
    assert "short-key" not in str(refused.value)
    monkeypatch.delenv(PROXY_KEY_ENV)
    assert shared_key(None) is None


async def test_a_sign_in_page_with_redis_gone_says_so_without_a_traceback(
    workspace: Path, add_provider, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    from fastmcp import FastMCP

    from multichat.runtime.user_signin import UserSignIn

    add_provider("alpha")
    password = "redis-password-never-shown"
    monkeypatch.setenv(PROXY_KEY_ENV, "k" * 40)  # the key needs no Redis: it is down from the start
    monkeypatch.setenv(REDIS_URL_ENV, f"redis://:{password}@127.0.0.1:{free_port()}/0")
    signin = UserSignIn(load_config(workspace / "provider-config.yaml"), "http://127.0.0.1:9")
    server: FastMCP[Any] = FastMCP("t")
    signin.install(server)
    transport = httpx2.ASGITransport(app=server.http_app())
    async with httpx2.AsyncClient(transport=transport, base_url="http://127.0.0.1:9") as web:
        page = await web.get("/signin/alpha?ticket=anything")
        sent = await web.post("/signin/alpha", data={"form_id": "anything"})

    assert (page.status_code, sent.status_code) == (503, 503)
    assert "cannot reach its store" in page.text
    assert "127.0.0.1" not in page.text  # where the store is stays in the log
    logged = [r.getMessage() for r in caplog.records if r.name == "multichat.audit"]
    assert any("cannot reach Redis at redis://:***@127.0.0.1:" in line for line in logged)
    assert password not in caplog.text
    assert not any(r.exc_info for r in caplog.records)
