"""Fixtures of the Google Chat preset's tests: the fake Chat on 127.0.0.1 and a workspace.

One fake server and one generated workspace serve a module; every test gets a fresh
:class:`GoogleChatWorld` and the provider's token in ``MULTICHAT_GCHAT_TOKEN``, and fails if
the fake kept a request or answer that chat.v1.json does not allow.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from google_chat_support import PROVIDER, TOKEN, point_at
from google_chat_world import GoogleChatWorld, serve
from helpers import free_port, generated_workspace
from support.fake_platform import FakePlatform


@pytest.fixture(scope="module")
def google_fake() -> FakePlatform:
    """The fake Google Chat, checked against chat.v1.json."""
    return FakePlatform("google_chat")


@pytest.fixture(scope="module")
def google_url(google_fake: FakePlatform) -> Iterator[str]:
    """The fake's root URL on 127.0.0.1 (the Chat API under /v1, userinfo beside it)."""
    with serve(google_fake) as url:
        yield url


@pytest.fixture(scope="module")
def gchat_workspace(google_url: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace with provider ``gchat`` from the google_chat preset, aimed at the fake."""
    folder = generated_workspace(
        tmp_path_factory.mktemp("gchat") / "ws", PROVIDER, "google_chat", {"port": free_port()}
    )
    point_at(folder, google_url)
    return folder


@pytest.fixture
def world(google_fake: FakePlatform, monkeypatch: pytest.MonkeyPatch) -> Iterator[GoogleChatWorld]:
    """A fresh world for this test, the token in the environment; the fake must stay clean."""
    fresh = GoogleChatWorld()
    fresh.install(google_fake)
    google_fake.requests.clear()
    monkeypatch.setenv(f"MULTICHAT_{PROVIDER.upper()}_TOKEN", TOKEN)
    try:
        yield fresh
        google_fake.assert_clean()
    finally:
        google_fake.failures.clear()
