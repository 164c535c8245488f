"""Fixtures shared by every test: fresh workspaces and the installed console script."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from helpers import (
    CHROMIUM,
    CHROMIUM_ARGS,
    CLIENT_ID,
    CLIENT_SECRET,
    MockOAuthServer,
    free_port,
    install_mock_server,
)
from hypothesis import HealthCheck, settings

from multichat.runtime import config as runtime_config
from multichat.sandbox import SandboxServer

if TYPE_CHECKING:
    from support.fake_platform import FakePlatform

# Fixtures every test folder may use: ``oidc_provider`` (a real OpenID Connect server from npm),
# ``redis_server`` and ``redis_url`` (Debian's redis-server).
pytest_plugins = ["support.oidc_provider", "support.redis_server"]


#: Put on PYTHONPATH, this turns the root logger to DEBUG in a subprocess before multichat runs.
# Tests never assert wall-clock times (speed is measured in bench/): Hypothesis's too_slow
# health check is one, and it failed a property test once on a loaded 2-CPU machine.
settings.register_profile("multichat", suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("multichat")

DEBUG_SITECUSTOMIZE = """
import logging, sys
logging.basicConfig(level=logging.DEBUG, stream=sys.stderr, force=True)
"""


@pytest.fixture
def debug_env(tmp_path: Path) -> dict[str, str]:
    """An environment in which every subprocess logs at DEBUG on stderr (to hunt for secrets)."""
    from helpers import clean_env

    folder = tmp_path / "debug-site"
    folder.mkdir()
    (folder / "sitecustomize.py").write_text(DEBUG_SITECUSTOMIZE)
    return clean_env(PYTHONPATH=str(folder))


@pytest.fixture(autouse=True)
def _isolated_config(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No test sees another test's active config or the developer's MULTICHAT_* variables."""
    for key in list(os.environ):
        if key.startswith("MULTICHAT_"):
            monkeypatch.delenv(key)
    runtime_config.use_config(None)
    yield
    runtime_config.use_config(None)


@pytest.fixture(scope="session")
def _workspace_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One rendered workspace (no providers), copied for each test that needs one."""
    from multichat.generator.workspace import create_workspace

    folder = tmp_path_factory.mktemp("template") / "ws"
    create_workspace(folder)
    return folder


@pytest.fixture
def workspace(_workspace_template: Path, tmp_path: Path) -> Path:
    """A fresh, empty workspace in ``tmp_path / "ws"``."""
    target = tmp_path / "ws"
    shutil.copytree(_workspace_template, target)
    return target


@pytest.fixture
def add_provider(workspace: Path) -> Callable[..., Path]:
    """Generate a provider into ``workspace`` in-process; returns its package folder."""
    from multichat.generator.provider import add_provider as generate

    def add(name: str, **data: object) -> Path:
        generate(name, config_path=workspace / "provider-config.yaml", data=dict(data))
        return workspace / "src" / "providers" / name

    return add


# ---- the third-party authorization server: oauth2-mock-server from npm ----------------------


@pytest.fixture(scope="session")
def _mock_oauth_process() -> Iterator[MockOAuthServer]:
    import time

    script = install_mock_server()
    port = free_port()
    process = subprocess.Popen(
        ["node", str(script), str(port)],
        cwd=script.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        assert process.stdout is not None
        line = process.stdout.readline()
        if line.strip() != "ready" or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"oauth2-mock-server did not start: {line} {process.stderr.read()}")
        yield MockOAuthServer(f"http://127.0.0.1:{port}")
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture
def oauth_server(_mock_oauth_process: MockOAuthServer) -> Iterator[MockOAuthServer]:
    """The mock authorization server, with counters and switches reset for this test."""
    _mock_oauth_process.reset()
    yield _mock_oauth_process
    _mock_oauth_process.reset()


@pytest.fixture
def oauth_workspace(
    workspace: Path, add_provider: Callable[..., Path], oauth_server: MockOAuthServer
) -> Path:
    """A workspace whose provider ``alpha`` points at the mock server, on a free callback port."""
    port = free_port()
    add_provider("alpha", port=port, scopes=["chat:read", "chat:write"])
    config = workspace / "provider-config.yaml"
    text = config.read_text()
    for key, path in (
        ("authorize_url", "/authorize"),
        ("token_url", "/token"),
        ("revoke_url", "/revoke"),
        ("whoami", "/userinfo"),
    ):
        text = text.replace(f'    {key}: ""', f'    {key}: "{oauth_server.url}{path}"', 1)
    config.write_text(text)
    credentials = workspace / "src" / "providers" / "alpha" / "credentials.json"
    credentials.write_text(f'{{"client_id": "{CLIENT_ID}", "client_secret": "{CLIENT_SECRET}"}}')
    credentials.chmod(0o600)
    return workspace


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    """The sandbox chat platform, seeded, on a free port: one per test module."""
    with SandboxServer() as server:
        yield server


@pytest.fixture
def fake_platform() -> Iterator[Callable[[str], FakePlatform]]:
    """Make fake platforms (``fake_platform("slack")``) checked against the platforms' own API
    descriptions; any request or reply a description refuses fails the test at teardown."""
    from support.fake_platform import FakePlatform

    made: list[FakePlatform] = []

    def make(platform: str) -> FakePlatform:
        made.append(FakePlatform(platform))
        return made[-1]

    yield make
    for fake in made:
        fake.assert_clean()


# ---- headless Chromium (Debian's, driven by Playwright) for consent and device pages --------

BROWSER_WAIT = 30.0


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's chromium package "
            "(`apt-get install -y chromium`, as .ci/run does) to run the browser tests"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS, timeout=60_000
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh page in its own browser context (no cookies shared between tests)."""
    context = browser.new_context()
    context.set_default_timeout(BROWSER_WAIT * 1000)
    try:
        yield context.new_page()
    finally:
        context.close()
