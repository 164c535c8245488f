"""What a workspace and its providers must be: the name rule (more of the contract joins it).

The runtime, the generator and ``doctor`` all derive from this module; it imports nothing of
multichat but the errors.
"""

from __future__ import annotations

import keyword
import re

from multichat.errors import InvalidProviderName

PROVIDER_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")

#: Names the workspace itself uses (its packages and the guide's shims).
RESERVED_NAMES = frozenset({"mcp_core", "multichat", "providers", "server", "src", "test", "tests"})

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
