"""The chat REST API under ``/api/v1``: users, channels, messages, threads, search, markers.

Every call needs a Bearer token; reads need ``chat:read``, writes ``chat:write``, the user
directory ``users:read``. Lists return ``{"items": [...], "next_cursor": ...}``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from multichat.sandbox import chat_store, schemas
from multichat.sandbox.api_auth import Principal, authenticate, requires
from multichat.sandbox.errors import ApiError
from multichat.sandbox.pagination import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    decode_cursor,
    encode_cursor,
    make_page,
)
from multichat.sandbox.records import load_messages, message_id, message_seq, user_record
from multichat.sandbox.scopes import CHAT_READ, CHAT_WRITE, USERS_READ
from multichat.sandbox.settings import db_of
from multichat.sandbox.timestamps import parse_time

router = APIRouter(prefix="/api/v1", tags=["chat"], responses=schemas.ERROR_RESPONSES)

Reader = Annotated[Principal, Depends(requires(CHAT_READ))]
Writer = Annotated[Principal, Depends(requires(CHAT_WRITE))]
Directory = Annotated[Principal, Depends(requires(USERS_READ))]
Anyone = Annotated[Principal, Depends(authenticate)]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page (1-200).")]
Cursor = Annotated[str | None, Query(description="next_cursor of the previous page.")]

CHANNEL_KINDS = ("public", "private", "direct")
#: Longest search query, in characters (the words are bounded too: chat_store.MAX_SEARCH_WORDS).
MAX_QUERY_LENGTH = 500


def _seq_page(kind: str, seqs: list[int], limit: int) -> tuple[list[int], str | None]:
    return make_page(kind, seqs, limit, lambda seq: seq)


def _messages(request: Request, seqs: list[int]) -> list[dict[str, Any]]:
    with db_of(request).connection() as conn:
        return load_messages(conn, seqs)


def _one_message(request: Request, seq: int) -> dict[str, Any]:
    found = _messages(request, [seq])
    if not found:
        raise ApiError(404, "not_found", f"no message {message_id(seq)!r}")
    return found[0]


def _int_position(kind: str, cursor: str | None) -> int | None:
    position = decode_cursor(kind, cursor)
    if position is not None and not isinstance(position, int):
        raise ApiError(400, "invalid_request", f"cursor is not a cursor of this {kind} list")
    return position


def _time_bound(name: str, value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return parse_time(value)
    except ValueError as exc:
        raise ApiError(400, "invalid_request", f"{name} must be ISO-8601 or unix seconds") from exc


@router.get("/me", response_model=schemas.User)
def me(request: Request, principal: Anyone) -> dict[str, Any]:
    """The signed-in user."""
    with db_of(request).connection() as conn:
        return user_record(chat_store.get_user(conn, principal.user_id))


@router.get("/users", response_model=schemas.UserPage)
def users(
    request: Request, principal: Directory, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> dict[str, Any]:
    """Everyone in the workspace, ordered by id."""
    after = decode_cursor("users", cursor)
    with db_of(request).connection() as conn:
        rows = chat_store.list_users(conn, str(after) if after is not None else None, limit + 1)
    items, next_cursor = make_page("users", rows, limit, lambda row: str(row["id"]))
    return {"items": [user_record(row) for row in items], "next_cursor": next_cursor}


@router.get("/users/{user_id}", response_model=schemas.User)
def user(request: Request, principal: Directory, user_id: str) -> dict[str, Any]:
    """One user."""
    with db_of(request).connection() as conn:
        return user_record(chat_store.get_user(conn, user_id))


@router.get("/channels", response_model=schemas.ChannelPage)
def channels(
    request: Request,
    principal: Reader,
    types: Annotated[
        str | None, Query(description="Comma-separated: public,private,direct (default all).")
    ] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """Channels the signed-in user can see: all public ones, and private or direct ones joined."""
    kinds = [kind.strip() for kind in (types or ",".join(CHANNEL_KINDS)).split(",") if kind]
    if not kinds or any(kind not in CHANNEL_KINDS for kind in kinds):
        raise ApiError(400, "invalid_request", "types must be a list of public, private, direct")
    after = decode_cursor("channels", cursor)
    with db_of(request).connection() as conn:
        rows = chat_store.list_channels(
            conn, principal.user_id, kinds, str(after) if after is not None else None, limit + 1
        )
    items, next_cursor = make_page("channels", rows, limit, lambda row: str(row["id"]))
    return {"items": items, "next_cursor": next_cursor}


@router.get("/channels/{channel_id}", response_model=schemas.Channel)
def channel(request: Request, principal: Reader, channel_id: str) -> dict[str, Any]:
    """One channel."""
    with db_of(request).connection() as conn:
        return chat_store.get_channel(conn, principal.user_id, channel_id)


@router.get("/channels/{channel_id}/messages", response_model=schemas.MessagePage)
def channel_messages(
    request: Request,
    principal: Reader,
    channel_id: str,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
    oldest: Annotated[
        str | None, Query(description="Only messages after this time (ISO-8601 or unix seconds).")
    ] = None,
    latest: Annotated[
        str | None, Query(description="Only messages before this time (ISO-8601 or unix seconds).")
    ] = None,
) -> dict[str, Any]:
    """Top-level messages of a channel, newest first (replies are under /replies)."""
    before = _int_position("messages", cursor)
    bounds = _time_bound("oldest", oldest), _time_bound("latest", latest)
    with db_of(request).connection() as conn:
        chat_store.get_channel(conn, principal.user_id, channel_id)
        seqs = chat_store.channel_messages(conn, channel_id, before, *bounds, limit + 1)
    page, next_cursor = _seq_page("messages", seqs, limit)
    return {"items": _messages(request, page), "next_cursor": next_cursor}


@router.post("/channels/{channel_id}/messages", response_model=schemas.Message, status_code=201)
def post_message(
    request: Request, principal: Writer, channel_id: str, body: schemas.NewMessage
) -> dict[str, Any]:
    """Post a message (or, with ``thread_id``, a reply); ``@username`` mentions are parsed."""
    thread = message_seq(body.thread_id) if body.thread_id else None
    text = body.text.strip()
    if not text:
        raise ApiError(400, "invalid_request", "text must not be blank")
    with db_of(request).transaction() as conn:
        seq = chat_store.post_message(conn, principal.user_id, channel_id, text, thread)
    return _one_message(request, seq)


@router.get("/messages/{message_id}", response_model=schemas.Message)
def get_message(request: Request, principal: Reader, message_id: str) -> dict[str, Any]:
    """One message."""
    seq = message_seq(message_id)
    with db_of(request).connection() as conn:
        chat_store.check_message(conn, principal.user_id, seq)
    return _one_message(request, seq)


@router.get("/messages/{message_id}/replies", response_model=schemas.MessagePage)
def replies(
    request: Request,
    principal: Reader,
    message_id: str,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """The replies of a message's thread, oldest first; the root itself is not included."""
    after = _int_position("replies", cursor)
    with db_of(request).connection() as conn:
        seqs = chat_store.thread_replies(
            conn, principal.user_id, message_seq(message_id), after, limit + 1
        )
    page, next_cursor = _seq_page("replies", seqs, limit)
    return {"items": _messages(request, page), "next_cursor": next_cursor}


@router.patch("/messages/{message_id}", response_model=schemas.Message)
def edit_message(
    request: Request, principal: Writer, message_id: str, body: schemas.MessageEdit
) -> dict[str, Any]:
    """Change the text of one of your own messages."""
    seq = message_seq(message_id)
    text = body.text.strip()
    if not text:
        raise ApiError(400, "invalid_request", "text must not be blank")
    with db_of(request).transaction() as conn:
        chat_store.edit_message(conn, principal.user_id, seq, text)
    return _one_message(request, seq)


@router.delete("/messages/{message_id}", status_code=204, response_class=Response)
def delete_message(request: Request, principal: Writer, message_id: str) -> Response:
    """Delete one of your own messages (a thread's root takes its replies with it)."""
    seq = message_seq(message_id)
    with db_of(request).transaction() as conn:
        chat_store.delete_message(conn, principal.user_id, seq)
    return Response(status_code=204)


@router.post("/messages/{message_id}/reactions", response_model=schemas.Message)
def add_reaction(
    request: Request, principal: Writer, message_id: str, body: schemas.NewReaction
) -> dict[str, Any]:
    """Add an emoji reaction; adding the same one again changes nothing."""
    seq = message_seq(message_id)
    with db_of(request).transaction() as conn:
        chat_store.add_reaction(conn, principal.user_id, seq, body.name)
    return _one_message(request, seq)


@router.delete("/messages/{message_id}/reactions/{name}", response_model=schemas.Message)
def remove_reaction(
    request: Request, principal: Writer, message_id: str, name: str
) -> dict[str, Any]:
    """Take back your emoji reaction ``name``."""
    seq = message_seq(message_id)
    with db_of(request).transaction() as conn:
        chat_store.remove_reaction(conn, principal.user_id, seq, name)
    return _one_message(request, seq)


@router.get("/search", response_model=schemas.MessagePage)
def search(
    request: Request,
    principal: Reader,
    query: Annotated[
        str,
        Query(
            min_length=1,
            max_length=MAX_QUERY_LENGTH,
            description="Words to find (all must match; at most 16).",
        ),
    ],
    channel_id: Annotated[str | None, Query(description="Search only this channel.")] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """Messages (and replies) containing every word of ``query``, best match first."""
    offset = _int_position("search", cursor) or 0
    with db_of(request).connection() as conn:
        seqs = chat_store.search(conn, principal.user_id, query, channel_id, offset, limit + 1)
    next_cursor = encode_cursor("search", offset + limit) if len(seqs) > limit else None
    return {"items": _messages(request, seqs[:limit]), "next_cursor": next_cursor}


@router.get("/mentions", response_model=schemas.MessagePage)
def mentions(
    request: Request, principal: Reader, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> dict[str, Any]:
    """Messages that mention the signed-in user, newest first."""
    before = _int_position("mentions", cursor)
    with db_of(request).connection() as conn:
        seqs = chat_store.mentions_of(conn, principal.user_id, before, limit + 1)
    page, next_cursor = _seq_page("mentions", seqs, limit)
    return {"items": _messages(request, page), "next_cursor": next_cursor}


@router.get("/channels/{channel_id}/read-marker", response_model=schemas.ReadMarker)
def read_marker(request: Request, principal: Reader, channel_id: str) -> dict[str, Any]:
    """The last message read in a channel and how many top-level messages by others followed."""
    with db_of(request).connection() as conn:
        return chat_store.read_marker(conn, principal.user_id, channel_id)


@router.post("/channels/{channel_id}/read-marker", response_model=schemas.ReadMarker)
def set_read_marker(
    request: Request, principal: Writer, channel_id: str, body: schemas.ReadMarkerUpdate
) -> dict[str, Any]:
    """Mark a channel read up to (and including) a message."""
    seq = message_seq(body.message_id)
    with db_of(request).transaction() as conn:
        chat_store.set_read_marker(conn, principal.user_id, channel_id, seq)
        return chat_store.read_marker(conn, principal.user_id, channel_id)
