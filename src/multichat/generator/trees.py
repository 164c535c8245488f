"""Reading a generated tree: every file by relative path, byte-code caches left out."""

from __future__ import annotations

from pathlib import Path


def is_cache(path: Path) -> bool:
    """Byte-code caches, which come and go and are nobody's work."""
    return "__pycache__" in path.parts or path.suffix in {".pyc", ".pyo"}


def read_files(folder: Path) -> dict[Path, bytes]:
    """Every file under ``folder`` (byte-code caches left out) by relative path; {} if none."""
    if not folder.is_dir():
        return {}
    return {
        path.relative_to(folder): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and not is_cache(path.relative_to(folder))
    }
