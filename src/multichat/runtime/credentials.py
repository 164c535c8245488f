"""Token data as a read-only mapping that never shows its secrets when printed."""

from __future__ import annotations

import math
import re
import time
import unicodedata
from collections.abc import Iterator, Mapping
from typing import Any

from multichat.errors import UnsendableToken

#: Seconds before ``expires_at`` at which a token already counts as expired.
EXPIRY_SKEW_SECONDS = 60.0
#: Checked with isinstance; a tuple is cheaper than building ``int | float`` each time.
_NUMBER = (int, float)

#: What an ``Authorization`` header can carry of a token: visible ASCII, no space.
_SENDABLE = re.compile(r"[\x21-\x7e]*")

_SECRET_KEYS = frozenset({"access_token", "refresh_token", "id_token", "client_secret"})


class Credentials(Mapping[str, Any]):
    """An OAuth token response (``access_token``, ``expires_at``, ...) that masks itself."""

    __slots__ = ("_data", "_stale_at")

    def __init__(self, data: Mapping[str, Any]) -> None:
        """Copy ``data``; an ``expires_in`` without ``expires_at`` is turned into one.

        A token's ``obtained_at`` (set by :meth:`obtained_now` when it arrives) lets the margin
        before expiry follow its lifetime.
        """
        copied = dict(data)
        if "expires_at" not in copied and isinstance(copied.get("expires_in"), _NUMBER):
            copied["expires_at"] = time.time() + float(copied["expires_in"])
        self._data = copied
        # Worked out once: a warm get_credentials() asks on every tool call.
        self._stale_at = self._stale_from(EXPIRY_SKEW_SECONDS)

    def obtained_now(self) -> Credentials:
        """These credentials, stamped as obtained now (a fresh sign-in or refresh)."""
        if self.expires_at is None or "obtained_at" in self._data:
            return self
        return Credentials({**self._data, "obtained_at": time.time()})

    def __getitem__(self, key: str) -> Any:
        """Return one field of the token response."""
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        """Iterate over field names."""
        return iter(self._data)

    def __len__(self) -> int:
        """Count fields."""
        return len(self._data)

    def __repr__(self) -> str:
        """Show the shape, never the secrets."""
        shown = {
            key: ("***" if key in _SECRET_KEYS else value) for key, value in self._data.items()
        }
        return f"Credentials({shown})"

    __str__ = __repr__

    @property
    def access_token(self) -> str:
        """The bearer token to send to the platform."""
        return str(self._data.get("access_token", ""))

    @property
    def expires_at(self) -> float | None:
        """Expiry as a Unix timestamp, or ``None`` when the platform gave none."""
        value = self._data.get("expires_at")
        return float(value) if isinstance(value, _NUMBER) else None

    @property
    def scopes(self) -> list[str]:
        """Granted scopes, as the platform reported them."""
        scope = self._data.get("scope")
        if isinstance(scope, str):
            return scope.replace(",", " ").split()
        if isinstance(scope, list):
            return [str(item) for item in scope]
        return []

    def is_expired(self, now: float | None = None, skew: float = EXPIRY_SKEW_SECONDS) -> bool:
        """True when the token expires within ``skew`` seconds (never, without ``expires_at``).

        A token that lives less than twice ``skew`` (Synapse's can be set to seconds) gets
        half its lifetime as the margin, so a fresh one never counts as expired already.
        """
        stale_at = self._stale_at if skew == EXPIRY_SKEW_SECONDS else self._stale_from(skew)
        return (now if now is not None else time.time()) >= stale_at

    def _stale_from(self, skew: float) -> float:
        """The moment the token counts as expired with margin ``skew`` (infinity: never)."""
        expires_at = self.expires_at
        if expires_at is None:
            return math.inf
        obtained = self._data.get("obtained_at")
        if isinstance(obtained, _NUMBER) and expires_at > obtained:
            skew = min(skew, (expires_at - obtained) / 2)
        return expires_at - skew

    def is_usable(self) -> bool:
        """True when there is an access token that has not expired."""
        return bool(self.access_token) and not self.is_expired()

    def to_dict(self) -> dict[str, Any]:
        """A plain copy for storage."""
        return dict(self._data)


def sendable_token(token: str, provider: str, source: str) -> str:
    """Return ``token`` if a header can carry it; ``source`` names where it came from.

    Raises:
        UnsendableToken: naming the first bad character and its position, never the token.
    """
    if _SENDABLE.fullmatch(token):
        return token
    position, char = next((n, c) for n, c in enumerate(token, 1) if not _SENDABLE.fullmatch(c))
    code = f"U+{ord(char):04X}"
    name = unicodedata.name(char, "a control character")
    shown = (
        f"{char!r} ({code} {name})" if char.isprintable() and char != " " else f"{code} ({name})"
    )
    raise UnsendableToken(
        f"{provider}: the token from {source} has {shown} at position {position}, which an "
        "HTTP header cannot carry: give the token alone, without quotes or spaces"
    )
