"""The whole contract between multichat and a workspace, in one place.

Where things live in a workspace, what a provider's three fixed files must define, which names
a provider may take, and where multichat keeps its own state. The runtime's loader, the
generator and ``doctor`` all derive from this module (as datasette's ``hookspecs.py`` holds its
plugin contract); it imports nothing of multichat but the errors.
"""

from __future__ import annotations

import keyword
import re
from pathlib import Path, PurePosixPath

from multichat.errors import InvalidProviderName

# ---- layout ----------------------------------------------------------------------------------

#: The workspace's configuration file, found by walking up from the working directory.
CONFIG_FILENAME = "provider-config.yaml"
#: The variable that names the configuration file instead (after ``--config``).
CONFIG_ENV = "MULTICHAT_CONFIG"
#: Providers live in ``src/providers/NAME`` and are imported as ``src.providers.NAME`` (the
#: guide's import paths).
PROVIDERS_DIR = Path("src", "providers")
PROVIDERS_PACKAGE = ".".join(PROVIDERS_DIR.parts)
#: multichat's own bookkeeping in a workspace: answers, baselines, the journal, the HTTP token.
STATE_DIR = Path(".multichat")
#: A provider's token file and OAuth client file, inside its package unless configured.
TOKEN_FILENAME = "token.json"  # noqa: S105 - a file name, not a token
CREDENTIALS_FILENAME = "credentials.json"
#: Generated files that hold secrets: written 0600, git-ignored, never copied or printed.
SECRET_FILES = frozenset({TOKEN_FILENAME, CREDENTIALS_FILENAME})
#: The bearer token an HTTP server requires when none is given (mode 0600, git-ignored).
HTTP_TOKEN_FILE = STATE_DIR / "http-token"


def find_config_upwards(start: Path) -> Path | None:
    """The first ``provider-config.yaml`` in ``start`` or a folder above it, if any."""
    for folder in (start, *start.parents):
        candidate = folder / CONFIG_FILENAME
        if candidate.is_file():
            return candidate
    return None


def package_dir(name: str) -> Path:
    """``src/providers/NAME``: the provider's package, relative to the workspace."""
    return PROVIDERS_DIR / name


def package_name(name: str) -> str:
    """``src.providers.NAME``: the provider's package as Python imports it."""
    return f"{PROVIDERS_PACKAGE}.{name}"


def provider_of_module(module: str) -> str | None:
    """The provider whose package holds ``module`` (``src.providers.x.api`` -> ``x``)."""
    prefix = PROVIDERS_PACKAGE + "."
    if not module.startswith(prefix):
        return None
    return module[len(prefix) :].partition(".")[0] or None


def env_name(provider: str, what: str) -> str:
    """A provider's environment variable: ``MULTICHAT_<NAME>_<WHAT>`` (``TOKEN``, ``CLIENT_ID``)."""
    return f"MULTICHAT_{provider.upper()}_{what}"


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


# ---- the three fixed files ---------------------------------------------------------------------

#: The provider's token module: the guide's names, and the sign-in hooks a mode may call.
AUTH_MODULE = PurePosixPath("api/auth.py")
#: Each file a provider must have, and the names it must define (the provider development
#: guide's "What You Must Follow"; docs/provider-guide.md). Everything else in a provider is free.
CONTRACT: dict[PurePosixPath, frozenset[str]] = {
    PurePosixPath("mcp_instance.py"): frozenset({"PROVIDER_NAME", "mcp", "tool"}),
    PurePosixPath("server_auth.py"): frozenset({"app", "run_auth_server"}),
    AUTH_MODULE: frozenset(
        {"get_credentials", "save_credentials", "get_token_info", "_token_info"}
    ),
}
CONTRACT_FILES = tuple(str(path) for path in CONTRACT)
#: The routes ``server_auth.app`` must serve.
AUTH_ROUTES = ("/auth", "/auth/callback", "/status")
#: The keys the guide puts in every provider's entry of ``provider-config.yaml``.
GUIDE_KEYS = (
    "name",
    "description",
    "token_path",
    "credentials_path",
    "callback_url",
    "port",
    "scopes",
)

# ---- names -------------------------------------------------------------------------------------

PROVIDER_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")

#: Names the workspace itself uses (its packages and the guide's shims), and ``inbox``, the
#: namespace of the tools that answer across every chat provider (docs/inbox.md).
RESERVED_NAMES = frozenset(
    {"inbox", "mcp_core", "multichat", "providers", "server", "src", "test", "tests"}
)

#: Longest provider name. Tools are served as ``NAME_tool`` and several MCP clients cap tool
#: names at 64 characters (``^[a-zA-Z0-9_-]{1,64}$``); the longest chat tool name has 19.
MAX_PROVIDER_NAME_LENGTH = 32

EXAMPLES = "(e.g. slack, google_chat)"

NAME_RULE = (
    "a provider name is a lowercase Python identifier: a letter, then letters, digits or "
    "underscores (e.g. slack, google_chat)"
)


def validate_provider_name(name: str) -> str:
    """Return ``name`` if it can name a provider, else raise :class:`InvalidProviderName`."""
    if len(name) > MAX_PROVIDER_NAME_LENGTH:
        raise InvalidProviderName(
            f"invalid provider name {name[:40]!r}...: {len(name)} characters, at most "
            f"{MAX_PROVIDER_NAME_LENGTH} (tool names must stay within 64)"
        )
    if not PROVIDER_NAME_PATTERN.fullmatch(name):
        raise InvalidProviderName(f"invalid provider name {name!r}: {NAME_RULE}")
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        raise InvalidProviderName(
            f"invalid provider name {name!r}: it is a Python keyword; "
            f"pick another lowercase Python identifier {EXAMPLES}"
        )
    if name in RESERVED_NAMES:
        reserved = ", ".join(sorted(RESERVED_NAMES))
        raise InvalidProviderName(
            f"invalid provider name {name!r}: the workspace uses it already ({reserved}); "
            f"pick another lowercase Python identifier {EXAMPLES}"
        )
    return name
