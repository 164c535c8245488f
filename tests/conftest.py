"""Fixtures shared by every test: fresh workspaces and the installed console script."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from multichat.runtime import config as runtime_config

BIN = Path(sys.executable).parent
MULTICHAT = str(BIN / "multichat")


@pytest.fixture(autouse=True)
def _isolated_config(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No test sees another test's active config or the developer's MULTICHAT_* variables."""
    for key in list(os.environ):
        if key.startswith("MULTICHAT_"):
            monkeypatch.delenv(key)
    runtime_config.use_config(None)
    yield
    runtime_config.use_config(None)


def run_cli(
    *args: str, cwd: Path, timeout: float = 120, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the installed ``multichat`` console script in a subprocess."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("MULTICHAT_")}
    full_env.update(env or {})
    return subprocess.run(
        [MULTICHAT, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=full_env,
        stdin=subprocess.DEVNULL,
        check=False,
    )


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

NODE_DIR = Path.home() / ".cache" / "multichat-tests" / "oauth2-mock-server-9.3.0"
MOCK_SCRIPT = Path(__file__).parent / "support" / "mock_oauth_server.mjs"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _install_mock_server() -> Path:
    from filelock import FileLock

    NODE_DIR.mkdir(parents=True, exist_ok=True)
    with FileLock(str(NODE_DIR / ".install.lock")):
        if not (NODE_DIR / "node_modules" / "oauth2-mock-server").is_dir():
            npm = shutil.which("npm")
            if npm is None:
                pytest.fail("npm is needed to install oauth2-mock-server for the OAuth tests")
            subprocess.run(
                [
                    npm,
                    "install",
                    "--no-audit",
                    "--no-fund",
                    "--prefix",
                    str(NODE_DIR),
                    "oauth2-mock-server@9.3.0",
                ],
                check=True,
                capture_output=True,
                timeout=300,
            )
        shutil.copy2(MOCK_SCRIPT, NODE_DIR / MOCK_SCRIPT.name)
    return NODE_DIR / MOCK_SCRIPT.name


class MockOAuthServer:
    """A running oauth2-mock-server with counters and fault switches (see support/*.mjs)."""

    def __init__(self, url: str) -> None:
        self.url = url

    def _get(self, path: str, **params: object) -> dict:
        import httpx2

        response = httpx2.get(f"{self.url}{path}", params=params, timeout=10)
        response.raise_for_status()
        return response.json()

    def stats(self) -> dict:
        return self._get("/__stats")

    def configure(self, **settings: object) -> dict:
        return self._get("/__config", **{k: str(v).lower() for k, v in settings.items()})

    def reset(self) -> None:
        self._get("/__reset")

    def refreshes(self) -> int:
        return int(self.stats()["token"].get("refresh_token", 0))


@pytest.fixture(scope="session")
def _mock_oauth_process() -> Iterator[MockOAuthServer]:
    import time

    script = _install_mock_server()
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


CLIENT_ID = "multichat-test-client"
CLIENT_SECRET = "test-client-secret-5f2c9a"


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
        ("userinfo_url", "/userinfo"),
    ):
        text = text.replace(f'    {key}: ""', f'    {key}: "{oauth_server.url}{path}"', 1)
    config.write_text(text)
    credentials = workspace / "src" / "providers" / "alpha" / "credentials.json"
    credentials.write_text(f'{{"client_id": "{CLIENT_ID}", "client_secret": "{CLIENT_SECRET}"}}')
    credentials.chmod(0o600)
    return workspace
