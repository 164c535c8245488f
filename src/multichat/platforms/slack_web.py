"""Slack's Web API conventions, for the Slack adapter: calls, failures, ids, times, token kinds.

Slack answers almost every failure as HTTP 200 with ``{"ok": false, "error": "code"}``
(https://docs.slack.dev/apis/web-api/#responses): :func:`call` turns each into one line, naming
the scope Slack wants where it answers ``missing_scope`` (with ``needed`` and ``provided``), and
a rejected token into :class:`~multichat.errors.NotAuthenticated`, which names
``multichat auth NAME``. Rate limits (HTTP 429 with ``Retry-After``) are retried by
:class:`~multichat.runtime.platform_client.PlatformClient` before anything reaches here.
"""

from __future__ import annotations

import datetime
import os
import re
from collections.abc import Mapping
from typing import Any, Literal

from multichat.contract import env_name
from multichat.errors import MultichatError, NotAuthenticated, UserError
from multichat.runtime.platform_client import PlatformClient, PlatformError

#: Errors that mean the token itself is no good: signing in again is the fix. From the common
#: errors of every method page, e.g. https://docs.slack.dev/reference/methods/auth.test#errors.
TOKEN_ERRORS = frozenset(
    {"invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive"}
)

#: What Slack's error codes mean for someone using the tools, from the Errors table of each
#: method's page under https://docs.slack.dev/reference/methods/ (chat.postMessage, chat.update,
#: chat.delete, reactions.add, conversations.history, conversations.mark, search.messages).
EXPLANATIONS: Mapping[str, str] = {
    "channel_not_found": "no such channel, or the signed-in user cannot see it",
    "not_in_channel": "the signed-in user is not a member of that channel",
    "is_archived": "the channel is archived",
    "message_not_found": "no such message in that channel",
    "thread_not_found": "no such thread in that channel",
    "cant_update_message": "only the author of a message can edit it",
    "cant_delete_message": "only the author of a message (or an admin) can delete it",
    "edit_window_closed": "the workspace no longer allows editing that message",
    "msg_too_long": "the message is too long for Slack",
    "no_text": "the message has no text",
    "invalid_name": "there is no emoji of that name in this workspace",
    "too_many_reactions": "the message has as many reactions as Slack allows",
    "too_many_emoji": "the message has as many different emoji as Slack allows",
    "not_reactable": "that message cannot take reactions",
    "restricted_action": "a workspace setting forbids this action",
    "not_allowed_token_type": (
        "this method does not take this kind of token (search needs a user token, xoxp-)"
    ),
    "no_permission": "the token's workspace or user may not do this",
    "ekm_access_denied": "the workspace's Enterprise Key Management denies access",
    "user_not_found": "no such user",
    "access_denied": "access to this resource is denied",
}

_CHANNEL_ID = re.compile(r"[A-Z0-9]{2,40}")
_TS = re.compile(r"\d{1,12}\.\d{1,6}")
_MESSAGE_ID = re.compile(rf"({_CHANNEL_ID.pattern}):({_TS.pattern})")
EXAMPLE_MESSAGE_ID = "C012AB3CD:1512085950.000216"
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)

TokenKind = Literal["user", "bot", "unknown"]


class SlackError(PlatformError):
    """Slack answered ``ok: false``; ``code`` is its ``error`` (``channel_not_found``)."""

    def __init__(self, message: str, code: str) -> None:
        """Keep Slack's code for callers that branch on it."""
        self.code = code
        super().__init__(message)


def failure(provider: str, method: str, answer: Any) -> MultichatError:
    """The one-line error for an answer that is not ``ok: true``."""
    if not isinstance(answer, Mapping):
        return PlatformError(f"{provider}: Slack's {method} answered without a JSON object")
    code = str(answer.get("error") or "unknown_error")
    if code in TOKEN_ERRORS:
        return NotAuthenticated(provider, f"Slack refused the token: {code}")
    if code == "missing_scope":
        needed = str(answer.get("needed") or "?")
        provided = str(answer.get("provided") or "none")
        return SlackError(
            f"{provider}: Slack refused {method}: the token lacks the `{needed}` scope "
            f"(it has: {provided}); add `{needed}` to the app's User Token Scopes, reinstall the "
            f"app, then run `multichat auth {provider}`",
            code,
        )
    detail = EXPLANATIONS.get(code)
    if detail is None:
        # Slack explains malformed arguments in response_metadata.messages
        # (https://docs.slack.dev/apis/web-api/#responses, "warnings and errors").
        messages = (answer.get("response_metadata") or {}).get("messages") or []
        detail = str(messages[0])[:200] if messages else ""
    suffix = f" ({detail})" if detail else ""
    return SlackError(f"{provider}: Slack refused {method}: {code}{suffix}", code)


async def call(
    api: PlatformClient, method: str, *, write: bool = False, **arguments: Any
) -> dict[str, Any]:
    """Call Web API ``method`` and return its ``ok: true`` answer.

    Readers go as GET with a query, writers as a form POST (every method takes
    ``application/x-www-form-urlencoded``); ``None`` arguments are left out, booleans sent as
    ``true``/``false``.

    Raises:
        NotAuthenticated: Slack refused the token.
        PlatformError: Slack answered ``ok: false`` (one line), or kept failing.
    """
    given = {key: value for key, value in arguments.items() if value is not None}
    if write:
        form = {key: _form_value(value) for key, value in given.items()}
        answer = await api.request("POST", method, form=form)
    else:
        answer = await api.get(method, **given)
    if not isinstance(answer, dict) or answer.get("ok") is not True:
        raise failure(api.provider, method, answer)
    return answer


def _form_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# ---- ids --------------------------------------------------------------------------------------


def message_id(channel: str, ts: str) -> str:
    """The tools' id of a Slack message: its channel and its ``ts`` (``C123:1712345678.000100``).

    Slack addresses a message by both (chat.update, chat.delete, reactions.add all take
    ``channel`` and ``ts``), so the id carries both.
    """
    return f"{channel}:{ts}"


def parse_message_id(value: str) -> tuple[str, str]:
    """``(channel, ts)`` of a message id from :func:`message_id`.

    Raises:
        UserError: it is not one.
    """
    match = _MESSAGE_ID.fullmatch(value.strip())
    if match is None:
        raise UserError(
            f"{value[:80]!r} is not a Slack message id: use one as the tools return it, "
            f"like {EXAMPLE_MESSAGE_ID}"
        )
    return match.group(1), match.group(2)


def check_channel_id(value: str) -> str:
    """A channel id as Slack writes them (``C012AB3CD``, ``G…``, ``D…``).

    Raises:
        UserError: it is not one (a name such as ``#general`` is not an id).
    """
    channel = value.strip()
    if not _CHANNEL_ID.fullmatch(channel):
        raise UserError(
            f"{value[:80]!r} is not a Slack channel id: use one as list_channels returns it, "
            "like C012AB3CD"
        )
    return channel


# ---- times ------------------------------------------------------------------------------------


def ts_time(ts: str) -> str:
    """A message ``ts`` (Unix seconds and microseconds, ``1712345678.000100``) as ISO-8601."""
    seconds, _, fraction = ts.partition(".")
    when = _EPOCH + datetime.timedelta(
        seconds=int(seconds), microseconds=int((fraction or "0").ljust(6, "0")[:6])
    )
    return when.isoformat().replace("+00:00", "Z")


def to_ts(when: datetime.datetime) -> str:
    """An aware datetime as Slack's ``oldest``/``latest`` (exact to the microsecond)."""
    delta = when - _EPOCH
    return f"{delta.days * 86_400 + delta.seconds}.{delta.microseconds:06d}"


# ---- tokens -----------------------------------------------------------------------------------


def kind_of_token(token: str) -> TokenKind:
    """``user`` for ``xoxp-``, ``bot`` for ``xoxb-`` (also behind rotation's ``xoxe.`` prefix).

    Prefixes from https://docs.slack.dev/authentication/tokens; rotating tokens start with
    ``xoxe.xoxp-`` / ``xoxe.xoxb-`` (https://docs.slack.dev/authentication/using-token-rotation).
    """
    bare = token.strip().removeprefix("xoxe.")
    if bare.startswith("xoxb-"):
        return "bot"
    if bare.startswith("xoxp-"):
        return "user"
    return "unknown"


def stored_token_kind(provider: str) -> TokenKind:
    """The kind of the provider's token, read without any request: the environment, then the file.

    Same order as the runtime's (``MULTICHAT_<NAME>_TOKEN`` wins). The token file is read, not
    refreshed: an expired rotating token has the same prefix as its successor.
    """
    token = os.environ.get(env_name(provider, "TOKEN"))
    if not token:
        from multichat.runtime.token_access import provider_auth

        try:
            stored = provider_auth(provider).store().load()
        except (MultichatError, OSError, ValueError):
            stored = None
        token = str((stored or {}).get("access_token") or "")
    return kind_of_token(token)
