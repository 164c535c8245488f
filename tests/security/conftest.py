"""Fixtures of the security tests that need a signed-in sandbox-preset workspace."""

from __future__ import annotations

from pathlib import Path

import pytest
from security_support import make_sandbox_workspace, sign_in

from multichat.sandbox import SandboxServer


@pytest.fixture(scope="module")
def chat_workspace(
    sandbox: SandboxServer, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Path:
    """A workspace with provider ``chat`` from the sandbox preset, signed in: one per module."""
    module = request.module.__name__.rsplit(".", 1)[-1]
    folder = make_sandbox_workspace(tmp_path_factory.mktemp(module) / "ws", sandbox.url)
    sign_in(folder, sandbox)
    return folder
