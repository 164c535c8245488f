"""pytest fixtures around a real Synapse; a folder's conftest imports the ones its tests use.

One server and one seeding serve the whole session: a start costs ~2 s and a seeding ~4 s, so the
seeded content is shared and must be treated as read-only. A test that writes (sends, reads, signs
in and out) makes its own accounts with ``synapse.register_user()`` or seeds a fresh copy with
``seed_rooms(synapse, ...)`` and new users.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from support.synapse import SynapseServer
from support.synapse_seed import SeededRooms, seed_rooms

SHORT_ACCESS_TOKEN_LIFETIME_MS = 3_000
"""Access-token lifetime of ``synapse_short_lived``: long enough for one call, short to wait out."""


@pytest.fixture(scope="session")
def synapse() -> Iterator[SynapseServer]:
    """A Synapse on a free port of 127.0.0.1, access tokens of refreshable logins lasting 5 min."""
    with SynapseServer() as server:
        yield server


@pytest.fixture(scope="session")
def synapse_seeded(synapse: SynapseServer) -> SeededRooms:
    """Twenty rooms seeded for ``alice`` ("Alice Liddell"), with ``bob`` and ``carol``."""
    reader = synapse.register_user("alice", display_name="Alice Liddell")
    peer = synapse.register_user("bob", display_name="Bob Builder")
    third = synapse.register_user("carol", display_name="Carol Danvers")
    return seed_rooms(synapse, reader, peer, third)


@pytest.fixture(scope="module")
def synapse_short_lived() -> Iterator[SynapseServer]:
    """A separate, empty Synapse whose refreshable access tokens expire after 3 s."""
    with SynapseServer(access_token_lifetime_ms=SHORT_ACCESS_TOKEN_LIFETIME_MS) as server:
        yield server
