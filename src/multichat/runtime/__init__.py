"""What a workspace imports at run time; generated code imports nothing else from multichat.

Names load on first use (PEP 562), so ``multichat run`` never pays for FastAPI or authlib,
which only sign-in needs. The runtime never imports the CLI, Copier or Typer (a test checks).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from multichat.chat.adapter import ChatAdapter
    from multichat.chat.tools import register_chat_tools
    from multichat.errors import MultichatError, NotAuthenticated
    from multichat.platforms import adapter_class
    from multichat.runtime.auth_app import build_auth_app, run_auth_server
    from multichat.runtime.config import (
        OAuthSettings,
        ProviderConfig,
        WorkspaceConfig,
        get_provider_config_value,
        load_config,
        use_config,
    )
    from multichat.runtime.credentials import Credentials
    from multichat.runtime.guide_server import main as guide_server_main
    from multichat.runtime.identity import who_is
    from multichat.runtime.loader import LoadReport, load_providers
    from multichat.runtime.logs import configure_logging
    from multichat.runtime.platform_client import PlatformClient, PlatformError, RetryPolicy
    from multichat.runtime.provider_info import describe_provider
    from multichat.runtime.registry import ToolDecorator, tool_decorator_factory
    from multichat.runtime.server import build_server, run_server
    from multichat.runtime.serving import workspace_server
    from multichat.runtime.token_access import ProviderAuth, provider_auth
    from multichat.runtime.untrusted import NOTICE as UNTRUSTED_NOTICE
    from multichat.runtime.untrusted import mark_untrusted

#: Public name -> (module, attribute in it).
_EXPORTS: dict[str, tuple[str, str]] = {
    "MultichatError": ("multichat.errors", "MultichatError"),
    "NotAuthenticated": ("multichat.errors", "NotAuthenticated"),
    "build_auth_app": ("multichat.runtime.auth_app", "build_auth_app"),
    "run_auth_server": ("multichat.runtime.auth_app", "run_auth_server"),
    "OAuthSettings": ("multichat.runtime.config", "OAuthSettings"),
    "ProviderConfig": ("multichat.runtime.config", "ProviderConfig"),
    "WorkspaceConfig": ("multichat.runtime.config", "WorkspaceConfig"),
    "get_provider_config_value": ("multichat.runtime.config", "get_provider_config_value"),
    "load_config": ("multichat.runtime.config", "load_config"),
    "use_config": ("multichat.runtime.config", "use_config"),
    "ChatAdapter": ("multichat.chat.adapter", "ChatAdapter"),
    "register_chat_tools": ("multichat.chat.tools", "register_chat_tools"),
    "adapter_class": ("multichat.platforms", "adapter_class"),
    "Credentials": ("multichat.runtime.credentials", "Credentials"),
    "who_is": ("multichat.runtime.identity", "who_is"),
    "describe_provider": ("multichat.runtime.provider_info", "describe_provider"),
    "guide_server_main": ("multichat.runtime.guide_server", "main"),
    "LoadReport": ("multichat.runtime.loader", "LoadReport"),
    "load_providers": ("multichat.runtime.loader", "load_providers"),
    "configure_logging": ("multichat.runtime.logs", "configure_logging"),
    "PlatformClient": ("multichat.runtime.platform_client", "PlatformClient"),
    "PlatformError": ("multichat.runtime.platform_client", "PlatformError"),
    "RetryPolicy": ("multichat.runtime.platform_client", "RetryPolicy"),
    "ProviderAuth": ("multichat.runtime.token_access", "ProviderAuth"),
    "provider_auth": ("multichat.runtime.token_access", "provider_auth"),
    "ToolDecorator": ("multichat.runtime.registry", "ToolDecorator"),
    "tool_decorator_factory": ("multichat.runtime.registry", "tool_decorator_factory"),
    "build_server": ("multichat.runtime.server", "build_server"),
    "run_server": ("multichat.runtime.server", "run_server"),
    "workspace_server": ("multichat.runtime.serving", "workspace_server"),
    "UNTRUSTED_NOTICE": ("multichat.runtime.untrusted", "NOTICE"),
    "mark_untrusted": ("multichat.runtime.untrusted", "mark_untrusted"),
}


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use and cache the name here."""
    try:
        module_name, attribute = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'multichat.runtime' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module_name), attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """List the public names alongside the module's own."""
    return sorted({*globals(), *__all__})


__all__ = [
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
