"""Fixtures of the Matrix tests: a real Synapse, empty or seeded (``tests/support/synapse*.py``),
and a workspace with two Matrix providers on it.

``mx`` reads the shared seeded rooms as alice (never writes: the seeding is read-only and shared);
``mxw`` writes, as a user of its own in rooms of its own. Both sign in through
``MULTICHAT_<NAME>_TOKEN`` with the access token of a password login.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from helpers import free_port
from matrix_support import READER, V3, WRITER, WriterRooms
from support.synapse import SynapseServer
from support.synapse_fixtures import synapse, synapse_seeded, synapse_short_lived
from support.synapse_seed import SeededRooms

__all__ = ["synapse", "synapse_seeded", "synapse_short_lived"]


@pytest.fixture(scope="session")
def writer_rooms(synapse: SynapseServer) -> WriterRooms:
    """``wanda`` in ``scratch`` and ``quiet`` with ``fred``, and in an encrypted room of hers."""
    writer = synapse.register_user(display_name="Wanda Writer")
    friend = synapse.register_user(display_name="Fred Friend")

    def create(http: Any, name: str, **options: Any) -> str:
        body = {"name": name, "preset": "private_chat", "invite": [friend.user_id], **options}
        answer = http.post(f"{V3}/createRoom", json=body)
        assert answer.status_code == 200, answer.text
        room: str = answer.json()["room_id"]
        return room

    # https://spec.matrix.org/latest/client-server-api/#post_matrixclientv3createroom
    with synapse.client(writer.access_token) as http:
        scratch = create(http, "scratch")
        quiet = create(http, "quiet")
        algorithm = {"algorithm": "m.megolm.v1.aes-sha2"}
        encryption = {"type": "m.room.encryption", "state_key": "", "content": algorithm}
        vault = create(http, "vault", initial_state=[encryption])
    with synapse.client(friend.access_token) as http:
        for room in (scratch, quiet, vault):
            assert http.post(f"{V3}/join/{quote(room)}", json={}).status_code == 200
    token = synapse.login(writer, refresh_token=False).access_token
    return WriterRooms(writer, friend, token, scratch, quiet, vault)


@pytest.fixture(scope="session")
def reader_token(synapse: SynapseServer, synapse_seeded: SeededRooms) -> str:
    """An access token of alice from a password login (no refresh token: it never expires)."""
    return synapse.login(synapse_seeded.reader, refresh_token=False).access_token


@pytest.fixture(scope="session")
def matrix_workspace(
    synapse: SynapseServer, _workspace_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A workspace with providers ``mx`` and ``mxw``, generated from the matrix preset."""
    from multichat.generator.provider import add_provider

    folder = tmp_path_factory.mktemp("matrix") / "ws"
    shutil.copytree(_workspace_template, folder)
    for name in (READER, WRITER):
        add_provider(
            name,
            config_path=folder / "provider-config.yaml",
            preset="matrix",
            data={"homeserver": synapse.url, "port": free_port()},
        )
    return folder


@pytest.fixture
def signed_in(
    monkeypatch: pytest.MonkeyPatch, reader_token: str, writer_rooms: WriterRooms
) -> Iterator[None]:
    """Both providers signed in through ``MULTICHAT_<NAME>_TOKEN``."""
    from multichat.runtime.token_access import reset_provider_auth

    monkeypatch.setenv("MULTICHAT_MX_TOKEN", reader_token)
    monkeypatch.setenv("MULTICHAT_MXW_TOKEN", writer_rooms.token)
    reset_provider_auth()
    yield
    reset_provider_auth()
