"""Import a rendered provider in a child process before any of it reaches the workspace.

The rendered package is copied into a scratch workspace (with the new ``provider-config.yaml``
and the workspace's own ``src/`` modules) and loaded there by
:mod:`multichat.generator.import_probe`, as ``multichat run`` would load it. A child process
keeps the provider's import-time code out of the CLI, and it starts importing FastMCP (about a
second) while Copier renders. Passing verdicts are remembered under one key made of what the
import depends on (:func:`verdict_key`): the same template, preset, workspace modules and
Python environment are not imported again. See docs/architecture.md.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from multichat import contract
from multichat.errors import GenerationError
from multichat.generator import trees
from multichat.user_cache import cache_folder

logger = logging.getLogger(__name__)

#: A provider whose import takes longer than this is reported as hanging.
PROBE_TIMEOUT = 120.0
#: Bump when the probe or the key changes meaning, so old verdicts are not reused.
KEY_VERSION = b"import-check 2"


class ImportProbe:
    """The child process that imports a provider; started early, asked at most once."""

    def __init__(self) -> None:
        """Start the child: it imports FastMCP and the runtime, then waits for a question."""
        self._process = subprocess.Popen(
            [sys.executable, "-P", "-m", "multichat.generator.import_probe"],
            cwd=tempfile.gettempdir(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def ask(self, config_path: Path, name: str) -> str | None:
        """None when provider ``name`` of ``config_path`` loads; otherwise why it does not."""
        request = json.dumps([str(config_path), name]) + "\n"
        try:
            stdout, stderr = self._process.communicate(request, timeout=PROBE_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.close()
            return f"importing it did not finish within {PROBE_TIMEOUT:.0f} s"
        lines = stdout.strip().splitlines()
        try:
            verdict = json.loads(lines[-1]) if lines else None
        except json.JSONDecodeError:
            verdict = None
        if isinstance(verdict, dict) and "ok" in verdict:
            return None if verdict["ok"] else str(verdict.get("reason", "unknown failure"))
        last = stderr.strip().splitlines()
        said = f": {last[-1]}" if last else ""
        code = self._process.returncode
        return f"importing it stopped the interpreter (exit code {code}){said}"

    def close(self) -> None:
        """Stop the child if it still runs (it was not needed, or it hangs)."""
        if self._process.poll() is None:
            self._process.kill()
        self._process.communicate()


def verdict_key(template: Path, preset: str, workspace: Path) -> str:
    """Everything a provider's import depends on, known before Copier renders anything.

    The template's files (every preset's code comes from them), the preset, the workspace's
    own ``src/`` modules and the Python environment. No answer is rendered into code but the
    provider's name, which is a validated identifier, so the answers stay out of the key.
    """
    digest = hashlib.sha256(KEY_VERSION + b"\0" + preset.encode() + b"\0")
    for part in _environment():
        digest.update(part.encode("utf-8", "surrogateescape") + b"\0")
    sources = {Path("copier.yml"): (template / "copier.yml").read_bytes()}
    for path, data in trees.read_files(template / "template").items():
        sources[Path("template") / path] = data
    sources.update(_workspace_modules(workspace))
    for relative in sorted(sources):
        digest.update(relative.as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(sources[relative]).digest())
    return digest.hexdigest()


#: The probe :func:`start_early_probe` started, until :func:`import_probe` takes it.
_early_probe: ImportProbe | None = None


def start_early_probe() -> None:
    """Start the probe as the command begins, before Typer and the workspace are loaded.

    ``new provider`` knows whether it needs a probe only once it has read the workspace and
    the template (about 0.3 s in); the child's import of FastMCP is what a first provider of a
    kind waits for, so it starts at once. An unneeded one is stopped by :func:`import_probe`,
    or when the process exits (a command that failed before rendering).
    """
    global _early_probe
    if _early_probe is None:
        _early_probe = ImportProbe()


@atexit.register
def _stop_early_probe() -> None:
    global _early_probe
    if _early_probe is not None:
        _early_probe.close()
        _early_probe = None


@contextlib.contextmanager
def import_probe(key: str) -> Iterator[ImportProbe | None]:
    """A probe started now (it imports FastMCP while Copier renders), or None with a verdict.

    A probe from :func:`start_early_probe` is used, or stopped when a verdict exists.
    :func:`check_provider_imports` starts a probe itself if it needs one and none was
    started, and stops an unneeded one.
    """
    global _early_probe
    early, _early_probe = _early_probe, None
    if _has_verdict(key):
        if early is not None:
            early.close()
        yield None
        return
    probe = early if early is not None else ImportProbe()
    try:
        yield probe
    finally:
        probe.close()


def check_provider_imports(
    rendered: Path,
    name: str,
    *,
    key: str,
    workspace: Path,
    config_name: str,
    config_text: str,
    probe: ImportProbe | None = None,
) -> None:
    """Raise :class:`GenerationError` unless the rendered provider ``name`` loads and imports.

    ``rendered`` is laid out like a workspace (``src/providers/NAME/...``); ``config_text`` is
    the configuration the provider will run with. ``key`` is its :func:`verdict_key`.
    """
    if _has_verdict(key):
        logger.debug("import check of %s: a passing verdict exists (%s)", name, key[:12])
        if probe is not None:
            probe.close()
        return
    package = contract.package_dir(name)
    with tempfile.TemporaryDirectory(prefix="multichat-import-check-") as scratch:
        root = Path(scratch)
        shutil.copytree(rendered / package, root / package)
        for relative, content in _workspace_modules(workspace).items():
            target = root / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
        (root / config_name).write_text(config_text, encoding="utf-8")
        own = probe if probe is not None else ImportProbe()
        try:
            reason = own.ask(root / config_name, name)
        finally:
            own.close()
        if reason is not None:
            # Name the file as it would sit in the workspace, not in the scratch copy.
            reason = reason.replace(f"{root}{os.sep}", "").replace(scratch + os.sep, "")
    if reason is not None:
        raise GenerationError(
            f"the generated provider {name!r} does not import: {reason}; nothing was written"
        )
    cache = _cache_dir()
    if cache is not None:
        _remember(cache, key)


def _has_verdict(key: str) -> bool:
    cache = _cache_dir()
    return cache is not None and (cache / key).is_file()


@functools.cache
def _environment() -> tuple[str, ...]:
    """The interpreter, what is installed for it, and this multichat (its newest source file).

    What is installed is read from the names of the ``*.dist-info`` folders on ``sys.path``
    (name and version, about a millisecond); reading every distribution's metadata took 115 ms.
    An installed package edited in place is not seen: ``MULTICHAT_CACHE_DIR=`` turns the cache
    off for that.
    """
    import multichat

    parts = [sys.executable, sys.version, multichat.__version__]
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        parts.extend(
            f"{entry}:{name}" for name in sorted(names) if name.endswith((".dist-info", ".pth"))
        )
    own = Path(multichat.__file__).parent
    newest = max((p.stat().st_mtime_ns for p in own.rglob("*.py")), default=0)
    parts.append(f"{own}={newest}")
    return tuple(parts)


def _workspace_modules(workspace: Path) -> dict[Path, bytes]:
    """The workspace's ``src/`` files a provider may import, other providers left out."""
    src = workspace / "src"
    providers = contract.PROVIDERS_DIR
    found: dict[Path, bytes] = {}
    for path in sorted(src.rglob("*.py")) if src.is_dir() else []:
        relative = path.relative_to(workspace)
        if trees.is_cache(relative):
            continue
        if relative.is_relative_to(providers) and relative != providers / "__init__.py":
            continue
        found[relative] = path.read_bytes()
    return found


def _cache_dir() -> Path | None:
    """Where passing verdicts are kept (see :mod:`multichat.user_cache`)."""
    return cache_folder("import-checks")


def _remember(cache: Path, key: str) -> None:
    """Record a passing verdict; a cache that cannot be written only costs the next check."""
    try:
        cache.mkdir(parents=True, exist_ok=True)
        (cache / key).touch()
    except OSError as exc:
        logger.debug("could not record the import check in %s: %s", cache, exc)
