"""Child process of the import check: load one provider of a scratch workspace as ``run`` would.

Started by :class:`multichat.generator.import_check.ImportProbe` while the parent still renders,
it first imports the runtime (FastMCP, FastAPI: the slow part), then reads one JSON line
``[CONFIG, NAME]`` from stdin (end of input: not needed, exit 0). It loads provider NAME the way
``multichat run`` does (``mcp_instance`` and every tool module, tools registered), imports every
other module of the package (``server_auth``, ``api/*``...), and prints one JSON line on stdout:
``{"ok": true, "tools": N}`` or ``{"ok": false, "reason": "..."}``.
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

#: Imported before the question arrives, while the parent renders.
WARM_MODULES = ("multichat.runtime.loader", "multichat.runtime.auth_app")


def probe(config_path: Path, name: str) -> dict[str, object]:
    """Load ``name`` from the workspace of ``config_path``; the verdict as a JSON-ready dict."""
    from multichat.contract import package_name
    from multichat.errors import MultichatError, ProviderLoadError
    from multichat.runtime.config import load_config
    from multichat.runtime.loader import (
        activate_workspace,
        import_provider_module,
        load_provider,
        modules_under,
    )

    try:
        config = load_config(config_path)
        activate_workspace(config)
        loaded = load_provider(config, name)
        package = package_name(name)
        for module_name in modules_under(config.provider_dir(name), package, include_private=True):
            if module_name not in sys.modules:
                import_provider_module(name, module_name)
    except ProviderLoadError as exc:
        return {"ok": False, "reason": exc.reason}
    except MultichatError as exc:
        return {"ok": False, "reason": str(exc)}
    return {"ok": True, "tools": len(loaded.tools)}


def main() -> int:
    """Warm up, answer one question from stdin; exit 0 when the provider imports, else 1."""
    for module in WARM_MODULES:
        importlib.import_module(module)
    request = sys.stdin.readline()
    if not request:
        return 0
    config_path, name = json.loads(request)
    verdict = probe(Path(config_path), name)
    # Anything a provider printed went to stderr (import_provider_module redirects stdout).
    sys.stdout.write(json.dumps(verdict) + "\n")
    sys.stdout.flush()
    return 0 if verdict["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
