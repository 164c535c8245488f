"""Import a rendered provider in a child process before any of it reaches the workspace.

The rendered package is copied into a scratch workspace (with the new ``provider-config.yaml``
and the workspace's own ``src/`` modules) and loaded there by
:mod:`multichat.generator.import_probe`, as ``multichat run`` would load it. A child process
keeps the provider's import-time code out of the CLI, and it starts importing FastMCP (about a
second) while Copier renders. Passing verdicts are remembered: a render that differs from one
already checked only in the answers' values (name, display name, port...), in the same Python
environment and multichat, is not imported again. See docs/architecture.md.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Iterator, Mapping
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
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
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


@contextlib.contextmanager
def import_probe(template: Path, preset: str) -> Iterator[ImportProbe | None]:
    """An early-started probe when this kind of provider has no verdict yet, else None.

    Only a guess to save time: :func:`check_provider_imports` starts a probe itself if it needs
    one and none was started, and stops an unneeded one.
    """
    cache = _cache_dir()
    if cache is not None and (cache / _kind_key(template, preset)).is_file():
        yield None
        return
    probe = ImportProbe()
    try:
        yield probe
    finally:
        probe.close()


def check_provider_imports(
    rendered: Path,
    name: str,
    *,
    workspace: Path,
    config_name: str,
    config_text: str,
    entry: Mapping[str, Any],
    answers: Mapping[str, Any],
    probe: ImportProbe | None = None,
    kind: tuple[Path, str] | None = None,
) -> None:
    """Raise :class:`GenerationError` unless the rendered provider ``name`` loads and imports.

    ``rendered`` is laid out like a workspace (``src/providers/NAME/...``); ``config_text`` is
    the configuration the provider will run with and ``entry`` its parsed entry there. ``kind``
    (template, preset) lets a passing verdict tell the next run not to start a probe early.
    """
    extras = _workspace_modules(workspace)
    package = rendered / layout.package_dir(name)
    key = verdict_key(layout.read_files(package), entry, extras, answers)
    cache = _cache_dir()
    if cache is not None and (cache / key).is_file():
        logger.debug("import check of %s: a passing verdict exists (%s)", name, key[:12])
        if probe is not None:
            probe.close()
        return
    with tempfile.TemporaryDirectory(prefix="multichat-import-check-") as scratch:
        root = Path(scratch)
        shutil.copytree(package, root / layout.package_dir(name))
        for relative, content in extras.items():
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
    if cache is not None:
        _remember(cache, key)
        if kind is not None:
            _remember(cache, _kind_key(*kind))


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


def _kind_key(template: Path, preset: str) -> str:
    """Template, preset and environment: a verdict for them makes an early probe unlikely.

    ``template`` is the folder that holds ``copier.yml`` and ``template/``.
    """
    digest = hashlib.sha256(KEY_VERSION + b" kind\0" + preset.encode() + b"\0")
    files = [template / "copier.yml", *(template / "template").rglob("*")]
    newest = max((p.stat().st_mtime_ns for p in files if p.is_file()), default=0)
    digest.update(f"{template}={newest}\0".encode("utf-8", "surrogateescape"))
    for part in _environment():
        digest.update(part.encode("utf-8", "surrogateescape") + b"\0")
    return "kind-" + digest.hexdigest()


def _answer_masks(answers: Mapping[str, Any]) -> list[tuple[re.Pattern[bytes], bytes]]:
    """(value, placeholder) pairs, longest value first, for the answers that are plain text.

    A value is masked only where it stands alone (not inside a longer word), so a short name
    like ``p`` masks ``"p"`` and ``providers.p.`` but not every letter p of the code.
    """
    values = sorted(
        (
            (str(value).encode("utf-8"), str(key).encode("utf-8"))
            for key, value in answers.items()
            if isinstance(value, str | int) and not isinstance(value, bool) and str(value)
        ),
        key=lambda pair: -len(pair[0]),
    )
    return [
        (re.compile(rb"(?<![\w])" + re.escape(value) + rb"(?![\w])"), b"\0" + key + b"\0")
        for value, key in values
    ]


def _masked(data: bytes, masks: Iterable[tuple[re.Pattern[bytes], bytes]]) -> bytes:
    for pattern, placeholder in masks:
        data = pattern.sub(placeholder, data)
    return data


@functools.cache
def _environment() -> tuple[str, ...]:
    """The interpreter, what it can import, and this multichat (its newest source file)."""
    import multichat

    parts = [sys.executable, sys.version, multichat.__version__]
    # The probe runs with neither our script's folder nor the current folder on its path (and
    # a workspace folder's time changes with every file added): leave both out.
    script = os.path.dirname(os.path.abspath(sys.argv[0])) if sys.argv and sys.argv[0] else ""
    skip = {"", os.getcwd(), script}
    for entry in sys.path:
        if entry in skip or os.path.abspath(entry) in skip:
            continue
        try:
            parts.append(f"{entry}={os.stat(entry or '.').st_mtime_ns}")
        except OSError:
            parts.append(f"{entry}=absent")
    own = Path(multichat.__file__).parent
    newest = max((p.stat().st_mtime_ns for p in own.rglob("*.py")), default=0)
    parts.append(f"{own}={newest}")
    return tuple(parts)


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


def _cache_dir() -> Path | None:
    """Where passing verdicts are kept: ``$MULTICHAT_CACHE_DIR`` or the user's cache folder."""
    override = os.environ.get(CACHE_ENV)
    if override is not None:
        return Path(override).expanduser() / "import-checks" if override else None
    base = os.environ.get("XDG_CACHE_HOME")
    if not base:
        try:
            base = str(Path.home() / ".cache")
        except RuntimeError:  # no home folder to be found: check every time
            return None
    return Path(base) / "multichat" / "import-checks"


def _remember(cache: Path, key: str) -> None:
    """Record a passing verdict; a cache that cannot be written only costs the next check."""
    try:
        cache.mkdir(parents=True, exist_ok=True)
        (cache / key).touch()
    except OSError as exc:
        logger.debug("could not record the import check in %s: %s", cache, exc)
