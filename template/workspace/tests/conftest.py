"""Point the runtime at this workspace's provider-config.yaml for every test."""

from pathlib import Path

import pytest
from multichat.runtime import load_config, use_config

WORKSPACE = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True, scope="session")
def _workspace_config():
    use_config(WORKSPACE / "provider-config.yaml")
    yield
    use_config(None)


@pytest.fixture
def workspace_config():
    """The parsed provider-config.yaml."""
    return load_config(WORKSPACE / "provider-config.yaml")
