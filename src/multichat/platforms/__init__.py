"""One adapter per chat platform: the only place presets differ (see multichat.chat.adapter).

Adding a preset is adding its module here (a :class:`~multichat.chat.adapter.ChatAdapter`
subclass named ``Adapter``), its line in :data:`ADAPTERS`, its config entry in
``template/presets/``, its page in ``docs/platforms/`` and its tests. Modules load on first
use: a workspace imports only the platforms it has.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from multichat.errors import UserError

if TYPE_CHECKING:
    from multichat.chat.adapter import ChatAdapter

#: Preset name -> the module that holds its ``Adapter``.
ADAPTERS: dict[str, str] = {
    "sandbox": "multichat.platforms.sandbox",
    "discord": "multichat.platforms.discord",
    "mattermost": "multichat.platforms.mattermost",
    "zulip": "multichat.platforms.zulip",
    "google_chat": "multichat.platforms.google_chat",
    "teams": "multichat.platforms.teams",
    "matrix": "multichat.platforms.matrix",
    "slack": "multichat.platforms.slack",
}


def adapter_class(preset: str) -> type[ChatAdapter]:
    """The adapter class of ``preset`` (subclass it in a provider to change a call).

    Raises:
        UserError: no such preset.
    """
    try:
        module = ADAPTERS[preset]
    except KeyError:
        raise UserError(
            f"no chat platform {preset!r}; known: {', '.join(sorted(ADAPTERS))}"
        ) from None
    adapter: type[ChatAdapter] = importlib.import_module(module).Adapter
    return adapter
