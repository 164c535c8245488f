"""What a workspace imports at run time; generated code imports nothing else from multichat.

The runtime never imports the CLI, Copier or Typer (a test checks it).
"""

from multichat.errors import MultichatError, NotAuthenticated
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
from multichat.runtime.loader import LoadReport, load_providers
from multichat.runtime.logs import configure_logging
from multichat.runtime.platform_client import PlatformClient, PlatformError, RetryPolicy
from multichat.runtime.provider_auth import ProviderAuth, provider_auth
from multichat.runtime.registry import ToolDecorator, tool_decorator_factory
from multichat.runtime.server import build_server, run_server
from multichat.runtime.untrusted import NOTICE as UNTRUSTED_NOTICE
from multichat.runtime.untrusted import mark_untrusted

__all__ = [
    "UNTRUSTED_NOTICE",
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
    "build_auth_app",
    "build_server",
    "configure_logging",
    "get_provider_config_value",
    "guide_server_main",
    "load_config",
    "load_providers",
    "mark_untrusted",
    "provider_auth",
    "run_auth_server",
    "run_server",
    "tool_decorator_factory",
    "use_config",
]
