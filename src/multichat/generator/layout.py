"""Where a provider's generated files, answers and baseline live in a workspace."""

from __future__ import annotations

from pathlib import Path

STATE_DIR = Path(".multichat")


def package_dir(name: str) -> Path:
    """``src/providers/NAME``: the provider's package."""
    return Path("src/providers") / name


def tests_dir(name: str) -> Path:
    """``tests/providers/NAME``: the provider's generated tests."""
    return Path("tests/providers") / name


def answers_file(name: str) -> Path:
    """The answers the provider was generated with (Copier's answers file)."""
    return STATE_DIR / "providers" / f"{name}.yml"


def baseline_dir(name: str) -> Path:
    """The files exactly as generated: the common ancestor of a later upgrade's merge."""
    return STATE_DIR / "baseline" / name


def owned_folders(name: str) -> list[Path]:
    """The folders that belong to provider ``name``."""
    return [package_dir(name), tests_dir(name)]


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
