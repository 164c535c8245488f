"""Fixtures of the Discord tests: a fake Discord on 127.0.0.1 and a workspace with provider ``dc``.

The fake (checked against Discord's own description) and the workspace are made once for all
the Discord tests; each test gets a fresh :class:`DiscordWorld` behind the fake, a clean
catch_up state (each person's too), and the bot token in ``MULTICHAT_DC_TOKEN`` (sent as
``Authorization: Bot``).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from discord_world import APPLICATION_ID, PROVIDER, TOKEN, DiscordWorld
from helpers import generated_workspace
from support.fake_platform import FakePlatform


@pytest.fixture(scope="session")
def discord_fake() -> Iterator[tuple[FakePlatform, str]]:
    """The fake Discord and its API base URL (``http://127.0.0.1:PORT/api/v10``)."""
    fake = FakePlatform("discord")
    with fake.serve() as base_url:
        yield fake, base_url


@pytest.fixture(scope="session")
def dc_workspace(
    discord_fake: tuple[FakePlatform, str], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A workspace with provider ``dc`` generated from the discord preset, on the fake."""
    folder = generated_workspace(
        tmp_path_factory.mktemp("discord") / "ws",
        PROVIDER,
        "discord",
        {"discord_application_id": APPLICATION_ID},
    )
    config = folder / "provider-config.yaml"
    text = config.read_text(encoding="utf-8")
    assert text.count('"https://discord.com/api/v10"') == 1
    config.write_text(text.replace("https://discord.com/api/v10", discord_fake[1]), "utf-8")
    return folder


@pytest.fixture
def world(
    discord_fake: tuple[FakePlatform, str], dc_workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[DiscordWorld]:
    """A fresh Discord behind the fake; what the fake refused fails the test."""
    fake = discord_fake[0]
    fake.requests.clear()
    fake.failures.clear()
    created = DiscordWorld()
    created.install(fake)
    for kept in ("state", "users"):  # single-user and per-person catch_up state
        shutil.rmtree(dc_workspace / ".multichat" / kept, ignore_errors=True)
    monkeypatch.setenv(f"MULTICHAT_{PROVIDER.upper()}_TOKEN", TOKEN)
    yield created
    fake.assert_clean()
