"""The sandbox's consent page in real headless Chromium, driven by Playwright for Python.

``multichat auth`` runs as a subprocess and prints its sign-in URL; Chromium opens it, lands
on the sandbox's consent page and clicks Allow or Deny. The ``browser`` and ``page`` fixtures
(Debian's Chromium, never a downloaded one) are in ``tests/sandbox/conftest.py``.
"""

from __future__ import annotations

import os
import queue
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import pytest
from helpers import MULTICHAT, free_port

from multichat.sandbox import SANDBOX_CLIENT_NAME, SandboxServer

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PROVIDER = "chat"
SCOPES = ["chat:read", "chat:write", "users:read"]
WAIT = 30.0


@pytest.fixture
def sandbox_workspace(workspace: Path, sandbox: SandboxServer) -> Path:
    from multichat.generator.provider import add_provider

    add_provider(
        PROVIDER,
        config_path=workspace / "provider-config.yaml",
        preset="sandbox",
        data={"platform_url": sandbox.url, "port": free_port()},
    )
    return workspace


class SignIn:
    """``multichat auth chat --no-browser`` in a subprocess, its output read by threads."""

    def __init__(self, workspace: Path) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MULTICHAT_")}
        self.process = subprocess.Popen(
            [MULTICHAT, "auth", PROVIDER, "--no-browser", "--timeout", "60"],
            cwd=workspace,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self._stderr_lines: queue.Queue[str] = queue.Queue()
        assert self.process.stdout is not None
        assert self.process.stderr is not None
        self._readers = [
            self._read(self.process.stdout, self.stdout.append),
            self._read(self.process.stderr, self._on_stderr),
        ]

    def _on_stderr(self, line: str) -> None:
        self.stderr.append(line)
        self._stderr_lines.put(line)

    @staticmethod
    def _read(stream: IO[str], sink: Callable[[str], None]) -> threading.Thread:
        def pump() -> None:
            for line in stream:
                sink(line)

        thread = threading.Thread(target=pump, daemon=True)
        thread.start()
        return thread

    def sign_in_url(self) -> str:
        try:
            line = self._stderr_lines.get(timeout=WAIT)
        except queue.Empty:
            pytest.fail(f"`multichat auth` printed no sign-in URL within {WAIT} s")
        assert ": http" in line, line
        return line.split(": ", 1)[1].strip()

    def wait(self) -> int:
        code = self.process.wait(timeout=WAIT)
        for reader in self._readers:
            reader.join(WAIT)
        return code

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=WAIT)


@pytest.fixture
def sign_in(sandbox_workspace: Path) -> Iterator[SignIn]:
    running = SignIn(sandbox_workspace)
    try:
        yield running
    finally:
        running.stop()


def open_consent_page(page: Any, sign_in: SignIn, sandbox: SandboxServer) -> None:
    page.goto(sign_in.sign_in_url())
    page.wait_for_selector("#allow")
    assert page.url.startswith(f"{sandbox.url}/oauth/authorize?")


def token_file(workspace: Path) -> Path:
    return workspace / "src" / "providers" / PROVIDER / "token.json"


def test_allow_in_chromium_ends_with_a_saved_token(page, sign_in, sandbox, sandbox_workspace):
    open_consent_page(page, sign_in, sandbox)
    ARTIFACTS.mkdir(exist_ok=True)
    screenshot = ARTIFACTS / "consent-page.png"
    page.screenshot(path=str(screenshot), full_page=True)

    assert page.inner_text("#app-name") == SANDBOX_CLIENT_NAME
    assert page.inner_text("#user-name") == "Ada Lovelace"
    scopes = page.inner_text("#scopes")
    for scope in SCOPES:
        assert scope in scopes
    assert page.inner_text("#allow") == "Allow"
    assert page.inner_text("#deny") == "Deny"
    assert page.is_visible("#allow")
    assert page.is_visible("#deny")
    assert screenshot.stat().st_size > 1000

    page.click("#allow")
    page.wait_for_selector("text=Signed in to chat")
    assert sign_in.wait() == 0

    token = token_file(sandbox_workspace)
    assert token.is_file()
    assert token.stat().st_mode & 0o777 == 0o600
    assert "access_token" in token.read_text()
    assert "signed in to chat" in "".join(sign_in.stdout)


def test_deny_in_chromium_makes_auth_exit_1_with_one_readable_line(
    page, sign_in, sandbox, sandbox_workspace
):
    open_consent_page(page, sign_in, sandbox)

    page.click("#deny")
    page.wait_for_selector("text=Sign-in did not complete")
    assert "access_denied" in page.inner_text("body")
    assert sign_in.wait() == 1

    after_url = [line for line in sign_in.stderr[1:] if line.strip()]
    assert len(after_url) == 1, sign_in.stderr
    assert "access_denied" in after_url[0]
    assert "Traceback" not in "".join(sign_in.stderr)
    assert not token_file(sandbox_workspace).exists()
