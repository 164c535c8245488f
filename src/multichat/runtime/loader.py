"""Import each configured provider, check its contract, and collect failures instead of raising.

A provider lives in ``<workspace>/src/providers/NAME`` and is imported as ``src.providers.NAME``
(the guide's import paths), so the workspace root goes on ``sys.path``. One broken provider is
reported and skipped; the others still load.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import pkgutil
import sys
import traceback
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from fastmcp import FastMCP

from multichat.contract import CONTRACT_FILES, package_name
from multichat.errors import MultichatError, ProviderLoadError
from multichat.runtime.config import ProviderConfig, WorkspaceConfig, use_config
from multichat.runtime.registry import ToolRecord, forget_all_tools, registered_tools
from multichat.runtime.token_access import reset_provider_auth

if TYPE_CHECKING:
    from multichat.runtime.served_names import NameCollision

logger = logging.getLogger(__name__)

DESCRIPTION_HINT = (
    "FastMCP 4 dropped FastMCP(name, description=...): pass instructions=description "
    "in mcp_instance.py (`multichat doctor` shows where)"
)


@dataclass
class LoadedProvider:
    """A provider that imported and honours the contract."""

    name: str
    config: ProviderConfig
    mcp: FastMCP[Any]
    tools: dict[str, ToolRecord] = field(default_factory=dict)
    #: Tools left out because another provider's tool is served under the same name.
    shadowed: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ProviderFailure:
    """A provider that could not be loaded, and why."""

    name: str
    reason: str


@dataclass
class LoadReport:
    """What :func:`load_providers` managed: the loaded providers and the failures.

    ``collisions`` are the tools two providers would serve under one name (served_names.py),
    filled in by the server that serves them.
    """

    providers: dict[str, LoadedProvider] = field(default_factory=dict)
    failures: list[ProviderFailure] = field(default_factory=list)
    collisions: list[NameCollision] = field(default_factory=list)


def activate_workspace(config: WorkspaceConfig) -> None:
    """Make ``src.providers.*`` import from this workspace and its configuration current."""
    root = str(config.root)
    current = sys.modules.get("src")
    if current is not None and not _module_is_under(current, config.root):
        for module_name in [m for m in sys.modules if m == "src" or m.startswith("src.")]:
            del sys.modules[module_name]
        reset_provider_auth()
        forget_all_tools()
    if root in sys.path:
        sys.path.remove(root)
    sys.path.insert(0, root)
    importlib.invalidate_caches()
    use_config(config.path)


def _module_is_under(module: ModuleType, root: Path) -> bool:
    locations = list(getattr(module, "__path__", []) or [])
    if getattr(module, "__file__", None):
        locations.append(str(module.__file__))
    resolved_root = root.resolve()
    return any(Path(location).resolve().is_relative_to(resolved_root) for location in locations)


def load_providers(config: WorkspaceConfig, names: Iterable[str] | None = None) -> LoadReport:
    """Load ``names`` (default: every configured provider), collecting failures."""
    activate_workspace(config)
    wanted = list(names) if names is not None else sorted(config.providers)
    report = LoadReport()
    for name in wanted:
        config.provider(name)
        try:
            report.providers[name] = load_provider(config, name)
        except ProviderLoadError as exc:
            report.failures.append(ProviderFailure(name, exc.reason))
            logger.info("%s", exc)
    return report


def load_provider(config: WorkspaceConfig, name: str) -> LoadedProvider:
    """Import one provider and check its contract; raise :class:`ProviderLoadError` if broken."""
    folder = config.provider_dir(name)
    if not folder.is_dir():
        raise ProviderLoadError(
            name,
            f"no folder {folder}: run `multichat new provider {name} --force` or remove its entry "
            f"from {config.path.name}",
        )
    missing = [file for file in CONTRACT_FILES if not (folder / file).is_file()]
    if missing:
        raise ProviderLoadError(name, f"missing {', '.join(missing)} in {folder}")
    package = package_name(name)
    instance = import_provider_module(name, f"{package}.mcp_instance")
    mcp = getattr(instance, "mcp", None)
    if not isinstance(mcp, FastMCP):
        raise ProviderLoadError(name, f"{package}.mcp_instance has no `mcp` FastMCP instance")
    if not callable(getattr(instance, "tool", None)):
        raise ProviderLoadError(name, f"{package}.mcp_instance has no `tool` decorator")
    for module_name in tool_modules(folder, package):
        import_provider_module(name, module_name)
    return LoadedProvider(
        name=name, config=config.provider(name), mcp=mcp, tools=registered_tools(name)
    )


def tool_modules(folder: Path, package: str) -> list[str]:
    """Dotted names of every module under the provider's ``tools/`` folder, sorted."""
    return modules_under(folder / "tools", f"{package}.tools", include_private=False)


def modules_under(folder: Path, package: str, *, include_private: bool) -> list[str]:
    """Dotted names of the modules and subpackages below ``folder`` (not ``package`` itself)."""
    # Walk the folders ourselves: pkgutil.walk_packages imports subpackages to recurse, outside
    # import_provider_module's stdout redirect and error reporting, so one broken subpackage
    # crashed the load.
    found: list[str] = []

    def walk(path: Path, prefix: str) -> None:
        for info in pkgutil.iter_modules([str(path)], prefix=prefix):
            short = info.name.rsplit(".", 1)[-1]
            if short.startswith("_") and not include_private:
                continue
            found.append(info.name)
            if info.ispkg:
                walk(path / short, f"{info.name}.")

    if folder.is_dir():
        walk(folder, f"{package}.")
    return sorted(found)


def import_provider_module(provider: str, module_name: str) -> ModuleType:
    """Import a module of ``provider``; any failure becomes a one-line ProviderLoadError."""
    # Import-time prints must not reach stdout: over stdio, stdout is the MCP channel.
    with contextlib.redirect_stdout(sys.stderr):
        try:
            return importlib.import_module(module_name)
        except MultichatError as exc:
            raise ProviderLoadError(provider, f"{module_name}: {exc}") from exc
        except TypeError as exc:
            if "description" in str(exc):
                raise ProviderLoadError(provider, DESCRIPTION_HINT) from exc
            raise ProviderLoadError(provider, _describe(module_name, exc)) from exc
        except Exception as exc:  # a provider's own bug must not take the others down
            raise ProviderLoadError(provider, _describe(module_name, exc)) from exc


def _describe(module_name: str, exc: BaseException) -> str:
    """``module: Error: text (file:line)``, pointing at the innermost frame of the workspace."""
    frames = traceback.extract_tb(exc.__traceback__)
    own = [frame for frame in frames if "/src/providers/" in frame.filename.replace("\\", "/")]
    where = f" ({own[-1].filename}:{own[-1].lineno})" if own else ""
    return f"{module_name}: {type(exc).__name__}: {exc}{where}"
