"""Import a rendered provider in a child process before any of it reaches the workspace.

The rendered package is copied into a scratch workspace (with the new ``provider-config.yaml``
and the workspace's own ``src/`` modules) and loaded there by
:mod:`multichat.generator.import_probe`, as ``multichat run`` would load it. A child process
keeps the provider's import-time code out of the CLI and costs FastMCP's import (about a
second), so passing verdicts are remembered: a render that differs from one already checked only
in the answers' values (name, display name, port...), in the same Python environment and
multichat, is not imported again. See docs/architecture.md, "Validation before writing".
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from multichat.errors import GenerationError
from multichat.generator import layout

logger = logging.getLogger(__name__)

CACHE_ENV = "MULTICHAT_CACHE_DIR"
#: A provider whose import takes longer than this is reported as hanging.
PROBE_TIMEOUT = 120.0
#: Bump when the probe or the key changes meaning, so old verdicts are not reused.
KEY_VERSION = b"import-check 1"


def check_provider_imports(
    rendered: Path,
    name: str,
    *,
    workspace: Path,
    config_name: str,
    config_text: str,
    entry: Mapping[str, Any],
    answers: Mapping[str, Any],
) -> None:
    """Raise :class:`GenerationError` unless the rendered provider ``name`` loads and imports.

    ``rendered`` is laid out like a workspace (``src/providers/NAME/...``); ``config_text`` is
    the configuration the provider will run with and ``entry`` its parsed entry there.
    """
    extras = _workspace_modules(workspace)
    package = rendered / layout.package_dir(name)
    key = verdict_key(_files_of(package), entry, extras, answers)
    cache = _cache_dir()
    if cache is not None and (cache / key).is_file():
        logger.debug("import check of %s: a passing verdict exists (%s)", name, key[:12])
        return
    with tempfile.TemporaryDirectory(prefix="multichat-import-check-") as scratch:
        root = Path(scratch)
        shutil.copytree(package, root / layout.package_dir(name))
        for relative, content in extras.items():
            target = root / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
        (root / config_name).write_text(config_text, encoding="utf-8")
        reason = _run_probe(root / config_name, name)
        if reason is not None:
            # Name the file as it would sit in the workspace, not in the scratch copy.
            reason = reason.replace(f"{root}{os.sep}", "").replace(scratch + os.sep, "")
    if reason is not None:
        raise GenerationError(
            f"the generated provider {name!r} does not import: {reason}; nothing was written"
        )
    if cache is not None:
        _remember(cache, key)


def verdict_key(
    package_files: Mapping[Path, bytes],
    entry: Mapping[str, Any],
    workspace_modules: Mapping[Path, bytes],
    answers: Mapping[str, Any],
) -> str:
    """A digest of everything the import's outcome depends on, answers' values masked out."""
    masks = _answer_masks(answers)
    digest = hashlib.sha256(KEY_VERSION)
    for part in _environment():
        digest.update(part.encode("utf-8", "surrogateescape") + b"\0")
    digest.update(_masked(json.dumps(entry, sort_keys=True, default=str).encode(), masks))
    for label, files in (("package", package_files), ("workspace", workspace_modules)):
        digest.update(label.encode() + b"\0")
        for relative in sorted(files):
            digest.update(_masked(relative.as_posix().encode(), masks) + b"\0")
            digest.update(hashlib.sha256(_masked(files[relative], masks)).digest())
    return digest.hexdigest()


def _answer_masks(answers: Mapping[str, Any]) -> list[tuple[bytes, bytes]]:
    """(value, placeholder) pairs, longest value first, for the answers that are plain text."""
    masks = [
        (str(value).encode("utf-8"), b"\0" + str(key).encode("utf-8") + b"\0")
        for key, value in answers.items()
        if isinstance(value, str | int) and not isinstance(value, bool) and str(value)
    ]
    return sorted(masks, key=lambda mask: -len(mask[0]))


def _masked(data: bytes, masks: Iterable[tuple[bytes, bytes]]) -> bytes:
    for value, placeholder in masks:
        data = data.replace(value, placeholder)
    return data


def _environment() -> list[str]:
    """The interpreter, what it can import, and this multichat (its newest source file)."""
    import multichat

    parts = [sys.executable, sys.version, multichat.__version__]
    for entry in sys.path[1:]:
        try:
            parts.append(f"{entry}={os.stat(entry or '.').st_mtime_ns}")
        except OSError:
            parts.append(f"{entry}=absent")
    own = Path(multichat.__file__).parent
    newest = max((p.stat().st_mtime_ns for p in own.rglob("*.py")), default=0)
    parts.append(f"{own}={newest}")
    return parts


def _files_of(folder: Path) -> dict[Path, bytes]:
    return {
        path.relative_to(folder): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and not layout.is_cache(path.relative_to(folder))
    }


def _workspace_modules(workspace: Path) -> dict[Path, bytes]:
    """The workspace's ``src/`` files a provider may import, other providers left out."""
    src = workspace / "src"
    providers = Path("src/providers")
    found: dict[Path, bytes] = {}
    for path in sorted(src.rglob("*.py")) if src.is_dir() else []:
        relative = path.relative_to(workspace)
        if layout.is_cache(relative):
            continue
        if relative.is_relative_to(providers) and relative != providers / "__init__.py":
            continue
        found[relative] = path.read_bytes()
    return found


def _run_probe(config_path: Path, name: str) -> str | None:
    """None when the provider loads in a child process; otherwise why it does not."""
    argv = [sys.executable, "-m", "multichat.generator.import_probe", str(config_path), name]
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    try:
        child = subprocess.run(
            argv,
            cwd=config_path.parent,
            capture_output=True,
            text=True,
            timeout=PROBE_TIMEOUT,
            env=env,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return f"importing it did not finish within {PROBE_TIMEOUT:.0f} s"
    lines = child.stdout.strip().splitlines()
    try:
        verdict = json.loads(lines[-1]) if lines else None
    except json.JSONDecodeError:
        verdict = None
    if isinstance(verdict, dict) and "ok" in verdict:
        return None if verdict["ok"] else str(verdict.get("reason", "unknown failure"))
    last = child.stderr.strip().splitlines()
    said = f": {last[-1]}" if last else ""
    return f"importing it stopped the interpreter (exit code {child.returncode}){said}"


def _cache_dir() -> Path | None:
    """Where passing verdicts are kept: ``$MULTICHAT_CACHE_DIR`` or the user's cache folder."""
    override = os.environ.get(CACHE_ENV)
    if override is not None:
        return Path(override).expanduser() / "import-checks" if override else None
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "multichat" / "import-checks"


def _remember(cache: Path, key: str) -> None:
    """Record a passing verdict; a cache that cannot be written only costs the next check."""
    try:
        cache.mkdir(parents=True, exist_ok=True)
        (cache / key).touch()
    except OSError as exc:
        logger.debug("could not record the import check in %s: %s", cache, exc)
