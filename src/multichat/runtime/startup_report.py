"""What ``multichat run`` says on stderr as it starts and stops: for people, or JSON for tools.

With ``--json`` each event is one JSON object on its own stderr line (stdout stays MCP's):
``{"event": "warning", "message": ...}``, ``{"event": "skipped", "provider": ..., "reason":
...}``, ``{"event": "notice", "message": ...}``, ``{"event": "loaded", "providers": [...],
"transport": ..., "dynamic": ...}`` and, over HTTP once the socket listens, ``{"event":
"serving", "url": ..., "protection": ...}``; when the server stops with calls still running
after the grace window, ``{"event": "cancelled", "calls": N}``. docs/cli.md documents the shape.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from multichat.runtime.loader import LoadReport


@dataclass(frozen=True)
class StartupReport:
    """Says each start-up event through ``say`` (one stderr line), as text or as JSON."""

    say: Callable[[str], None]
    as_json: bool = False

    def _event(self, event: str, text: str, **fields: Any) -> None:
        if self.as_json:
            self.say(json.dumps({"event": event, **fields}, sort_keys=False))
        else:
            self.say(text)

    def warning(self, message: str) -> None:
        """A setting that looks wrong but does not stop the start."""
        self._event("warning", f"multichat: warning: {message}", message=message)

    def skipped(self, provider: str, reason: str) -> None:
        """A provider that did not load; the others are served."""
        self._event(
            "skipped",
            f"multichat: skipped provider {provider}: {reason}",
            provider=provider,
            reason=reason,
        )

    def notice(self, message: str) -> None:
        """A line a person must read once (where the HTTP token is, a URL to register)."""
        self._event("notice", message, message=message)

    def loaded(self, report: LoadReport, transport: str, dynamic: bool) -> None:
        """What is about to be served (JSON only: people see the server answer instead)."""
        if self.as_json:
            providers = [
                {"name": name, "tools": sorted(provider.tools)}
                for name, provider in sorted(report.providers.items())
            ]
            self._event("loaded", "", providers=providers, transport=transport, dynamic=dynamic)

    def serving(self, url: str, protection: str) -> None:
        """The HTTP server listens at ``url``."""
        self._event(
            "serving",
            f"multichat: serving MCP at {url} ({protection}); Ctrl-C stops it",
            url=url,
            protection=protection,
        )

    def cancelled(self, calls: int) -> None:
        """The server stopped with ``calls`` still running after the grace window."""
        were = "call was" if calls == 1 else "calls were"
        self._event(
            "cancelled",
            f"multichat: stopped while {calls} {were} in flight (cancelled)",
            calls=calls,
        )
