"""Fixtures of the Mattermost preset's tests: the fake Mattermost on 127.0.0.1 and a workspace.

One fake and one signed-in workspace per test module; a test that changes the config or the
token works on a copy. The fake's exchanges are checked against the Mattermost description
throughout, and any violation fails the module at teardown.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_mattermost import TOKEN, FakeMattermost
from platforms.preset_workspace import generate, sign_in

PROVIDER = "mm"


@pytest.fixture(scope="module")
def mattermost() -> Iterator[tuple[FakeMattermost, str]]:
    """The fake Mattermost and the server URL it answers on."""
    server = FakeMattermost()
    with server.fake.serve() as url:
        yield server, url
    server.fake.assert_clean()


@pytest.fixture(scope="module")
def mm_workspace(
    mattermost: tuple[FakeMattermost, str], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A workspace whose provider ``mm`` (preset mattermost) is signed in to the fake."""
    _, url = mattermost
    workspace = generate(tmp_path_factory.mktemp("mattermost") / "ws", PROVIDER, "mattermost", url)
    sign_in(workspace, PROVIDER, {"access_token": TOKEN, "token_type": "bearer"})
    return workspace
