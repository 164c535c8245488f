"""The public surface of ``multichat.runtime`` and what importing it drags in."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import multichat.runtime as runtime

# Change this list only on purpose: generated code may import exactly these names.
PUBLIC = [
    "UNTRUSTED_NOTICE",
    "ChatAdapter",
    "Credentials",
    "LoadReport",
    "MultichatError",
    "NotAuthenticated",
    "OAuthSettings",
    "PlatformClient",
    "PlatformError",
    "ProviderAuth",
    "ProviderConfig",
    "RetryPolicy",
    "ToolDecorator",
    "WorkspaceConfig",
    "adapter_class",
    "build_auth_app",
    "build_server",
    "configure_logging",
    "describe_provider",
    "get_provider_config_value",
    "guide_server_main",
    "load_config",
    "load_providers",
    "mark_untrusted",
    "provider_auth",
    "register_chat_tools",
    "run_auth_server",
    "run_server",
    "tool_decorator_factory",
    "use_config",
    "who_is",
    "workspace_server",
]


def isort_style(name: str) -> tuple[int, str]:
    """Ruff's RUF022 order: CONSTANTS, then Classes, then functions, each alphabetical."""
    kind = 0 if name.isupper() else 1 if name[0].isupper() else 2
    return kind, name


def test_all_is_pinned_and_sorted():
    assert runtime.__all__ == PUBLIC
    assert sorted(runtime.__all__, key=isort_style) == runtime.__all__
    assert len(set(runtime.__all__)) == len(runtime.__all__)


def test_every_public_name_exists():
    missing = [name for name in runtime.__all__ if not hasattr(runtime, name)]
    assert missing == []


def test_star_import_gives_exactly_the_public_names():
    namespace: dict[str, object] = {}
    exec("from multichat.runtime import *", namespace)
    assert sorted(name for name in namespace if name != "__builtins__") == sorted(PUBLIC)


def test_the_runtime_never_imports_the_cli_copier_or_typer():
    # Load every public name (they are lazy), then look at what came along.
    probe = (
        "import json, sys\nimport multichat.runtime as runtime\n"
        "[getattr(runtime, name) for name in runtime.__all__]\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    loaded = set(json.loads(result.stdout))

    assert "multichat.runtime" in loaded
    assert "fastmcp" in loaded
    for banned in ("copier", "typer", "multichat.cli", "multichat.generator"):
        offenders = sorted(m for m in loaded if m == banned or m.startswith(f"{banned}."))
        assert offenders == [], f"importing multichat.runtime imported {offenders}"


def test_serving_does_not_load_what_only_sign_in_needs(workspace, add_provider):
    add_provider("alpha")
    probe = (
        "import json, sys\n"
        "from multichat.runtime import build_server, load_config\n"
        f"build_server(load_config({str(workspace / 'provider-config.yaml')!r}))\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    loaded = set(json.loads(result.stdout))
    assert "src.providers.alpha.mcp_instance" in loaded
    assert "fastapi" not in loaded
    assert "authlib" not in loaded


def test_every_public_name_resolves_and_unknown_names_fail():
    import multichat.runtime as runtime

    for name in runtime.__all__:
        assert getattr(runtime, name) is not None
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = runtime.nope
