"""Fixtures of the Zulip preset's tests: the fake Zulip on 127.0.0.1 and a signed-in workspace.

One fake and one workspace per test module; a test that changes the config or the key works on
a copy. Every exchange is checked against zulip_api.yaml (Zulip's documentation, transcribed),
and any violation fails the module at teardown.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_zulip import API_KEY, EMAIL, FakeZulip
from platforms.preset_workspace import generate, sign_in

PROVIDER = "zp"


@pytest.fixture(scope="module")
def zulip() -> Iterator[tuple[FakeZulip, str]]:
    """The fake Zulip and the organization URL it answers on."""
    server = FakeZulip()
    with server.api.serve() as api_url:
        yield server, api_url.removesuffix("/api/v1")
    server.api.assert_clean()


@pytest.fixture(scope="module")
def zp_workspace(zulip: tuple[FakeZulip, str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace whose provider ``zp`` (preset zulip) is signed in as Ada (email + API key)."""
    _, url = zulip
    workspace = generate(tmp_path_factory.mktemp("zulip") / "ws", PROVIDER, "zulip", url)
    sign_in(
        workspace, PROVIDER, {"access_token": API_KEY, "username": EMAIL, "token_type": "basic"}
    )
    return workspace
