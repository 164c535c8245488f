"""The OAuth scopes of the sandbox and what each one lets an app do, in words."""

from __future__ import annotations

CHAT_READ = "chat:read"
CHAT_WRITE = "chat:write"
USERS_READ = "users:read"

SCOPE_WORDS: dict[str, str] = {
    CHAT_READ: "Read the channels and messages you can see, search them and see your mentions",
    CHAT_WRITE: "Send, edit and delete your messages, react to messages and mark channels read",
    USERS_READ: "See the people in your workspace: names, usernames and email addresses",
}

ALL_SCOPES: tuple[str, ...] = tuple(SCOPE_WORDS)


def parse_scopes(text: str | None) -> list[str]:
    """Scopes from a space- or comma-separated string, in order and without repeats."""
    if not text:
        return []
    seen: list[str] = []
    for item in text.replace(",", " ").split():
        if item not in seen:
            seen.append(item)
    return seen


def format_scopes(scopes: list[str]) -> str:
    """The space-separated form that token responses carry."""
    return " ".join(scopes)
