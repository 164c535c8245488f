"""Fixtures of the teams preset's tests: a fake Microsoft Graph on 127.0.0.1 and a workspace.

One fake server and one generated workspace serve a module; every test gets a fresh
:class:`GraphWorld` and the token in ``MULTICHAT_TEAMS_TOKEN``, and fails if the fake kept a
request or answer that graph_description.py does not allow.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from graph_world import FakeGraph, GraphWorld
from helpers import free_port, generated_workspace
from teams_support import PROVIDER, TOKEN, point_at

TENANT_ANSWER = "contoso.onmicrosoft.com"
CLIENT_ID = "00001111-aaaa-2222-bbbb-3333cccc4444"


@pytest.fixture(scope="module")
def graph_fake() -> FakeGraph:
    """The fake Graph, checked against graph_description.py."""
    return FakeGraph()


@pytest.fixture(scope="module")
def graph_base(graph_fake: FakeGraph) -> Iterator[str]:
    """The fake's ``.../v1.0`` on 127.0.0.1."""
    with graph_fake.serve() as base:
        yield base


@pytest.fixture(scope="module")
def teams_workspace(graph_base: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace with provider ``teams`` from the teams preset, aimed at the fake."""
    folder = generated_workspace(
        tmp_path_factory.mktemp("teams") / "ws",
        PROVIDER,
        "teams",
        {"port": free_port(), "tenant": TENANT_ANSWER, "client_id": CLIENT_ID},
    )
    point_at(folder, graph_base)
    return folder


@pytest.fixture
def graph(
    graph_fake: FakeGraph, graph_base: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[GraphWorld]:
    """A fresh world for this test, the token in the environment; the fake must stay clean."""
    fresh = GraphWorld(graph_base.removesuffix("/v1.0"))
    fresh.install(graph_fake)
    graph_fake.requests.clear()
    monkeypatch.setenv(f"MULTICHAT_{PROVIDER.upper()}_TOKEN", TOKEN)
    try:
        yield fresh
        graph_fake.assert_clean()
    finally:
        graph_fake.failures.clear()
