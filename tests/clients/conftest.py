"""A fake user for each client test: temporary home, project and workspace folders."""

from __future__ import annotations

from pathlib import Path

import pytest
from clients_support import Folders


@pytest.fixture
def folders(tmp_path: Path) -> Folders:
    home, cwd, workspace = tmp_path / "home", tmp_path / "project", tmp_path / "chat-ws"
    for folder in (home, cwd, workspace):
        folder.mkdir()
    return Folders(home, cwd, workspace)
