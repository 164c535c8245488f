"""Child process of the import check: load one provider of a scratch workspace as ``run`` would.

``python -m multichat.generator.import_probe CONFIG NAME`` loads provider NAME the way
``multichat run`` does (``mcp_instance`` and every tool module, tools registered), then imports
every other module of its package (``server_auth``, ``api/*``...). It prints one JSON line on
stdout: ``{"ok": true, "tools": N}`` or ``{"ok": false, "reason": "..."}``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def probe(config_path: Path, name: str) -> dict[str, object]:
    """Load ``name`` from the workspace of ``config_path``; the verdict as a JSON-ready dict."""
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
        package = f"src.providers.{name}"
        for module_name in modules_under(config.provider_dir(name), package, include_private=True):
            if module_name not in sys.modules:
                import_provider_module(name, module_name)
    except ProviderLoadError as exc:
        return {"ok": False, "reason": exc.reason}
    except MultichatError as exc:
        return {"ok": False, "reason": str(exc)}
    return {"ok": True, "tools": len(loaded.tools)}


def main(argv: list[str]) -> int:
    """Entry point of the child process; exit 0 when the provider imports, 1 when it does not."""
    verdict = probe(Path(argv[0]), argv[1])
    # Anything a provider printed went to stderr (import_provider_module redirects stdout).
    sys.stdout.write(json.dumps(verdict) + "\n")
    sys.stdout.flush()
    return 0 if verdict["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
