"""One line of ``multichat doctor``'s report: a provider, how bad, what is wrong, the fix."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Level = Literal["ok", "note", "warning", "error"]


@dataclass(frozen=True)
class Finding:
    """One line of the report: which provider, how bad, what is wrong, how to fix it."""

    provider: str
    level: Level
    message: str
    fix: str = ""

    def line(self) -> str:
        """``alpha: error: message; fix: ...`` on one line."""
        text = f"{self.provider}: {self.level}: {self.message}"
        return f"{text}; fix: {self.fix}" if self.fix else text
