"""Applying a ChangeSet through symlinks: the link stays, its target changes and rolls back."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from multichat.generator import changes as changes_module
from multichat.generator.changes import ChangeSet


def linked_config(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A workspace whose ``provider-config.yaml`` links to a file outside it (mode 0640)."""
    root, shared = tmp_path / "ws", tmp_path / "shared"
    root.mkdir()
    shared.mkdir()
    target = shared / "pc.yaml"
    target.write_bytes(b"providers:\n")
    target.chmod(0o640)
    link = root / "provider-config.yaml"
    link.symlink_to("../shared/pc.yaml")
    return root, link, target


def test_a_symlinked_file_is_written_through_and_stays_a_link(tmp_path: Path) -> None:
    root, link, target = linked_config(tmp_path)

    changes = ChangeSet(root)
    changes.write(Path("provider-config.yaml"), b"providers: {}\n")
    changes.apply()

    assert link.is_symlink()
    assert target.read_bytes() == b"providers: {}\n"
    assert target.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in target.parent.iterdir()) == ["pc.yaml"]


def test_a_failed_change_restores_the_linked_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, link, target = linked_config(tmp_path)
    write = changes_module.write_atomically

    def full_disk(path: Path, content: bytes, mode: int | None = None) -> None:
        if path.name == "later.txt":
            raise OSError(errno.ENOSPC, "no space left")
        write(path, content, mode)

    monkeypatch.setattr(changes_module, "write_atomically", full_disk)
    changes = ChangeSet(root)
    changes.write(Path("provider-config.yaml"), b"providers: {}\n")
    changes.write(Path("later.txt"), b"x\n")
    with pytest.raises(OSError, match="no space"):
        changes.apply()

    assert link.is_symlink()
    assert target.read_bytes() == b"providers:\n"
    assert sorted(p.name for p in target.parent.iterdir()) == ["pc.yaml"]
    assert not (root / ".multichat").exists()


def test_a_dangling_link_is_replaced_by_the_file(tmp_path: Path) -> None:
    link = tmp_path / "notes.txt"
    link.symlink_to("nowhere.txt")

    changes = ChangeSet(tmp_path)
    changes.write(Path("notes.txt"), b"written\n")
    changes.apply()

    assert not link.is_symlink()
    assert link.read_bytes() == b"written\n"
