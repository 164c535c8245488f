"""The one ``/sync`` that the channel list and catch-up read, and what they take from it.

An initial sync with a tight filter (https://spec.matrix.org/latest/client-server-api/#filtering)
brings, for every joined room at once, the state that names it (``m.room.name``,
``m.room.canonical_alias``, ``m.direct`` account data, the summary's ``m.heroes``; spec,
"Calculating the display name for a room"), whether it is encrypted, its unread notification
count, its ``m.fully_read`` marker and its latest messages.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from multichat.chat.models import ChannelKind, ChatChannel
from multichat.platforms.matrix_events import MESSAGE_TYPES, is_message, sent_at

#: Room state /sync brings for the channel list and catch-up.
ROOM_STATE = [
    "m.room.name",
    "m.room.canonical_alias",
    "m.room.topic",
    "m.room.join_rules",
    "m.room.encryption",
    "m.room.create",
    "m.room.member",
]


def sync_filter(timeline_limit: int) -> str:
    """The filter (as the JSON ``filter`` parameter) of the rooms' state and latest messages."""
    return json.dumps(
        {
            "presence": {"types": []},
            "account_data": {"types": ["m.direct"]},
            "room": {
                "state": {"types": ROOM_STATE, "lazy_load_members": True},
                "timeline": {
                    "limit": timeline_limit,
                    "types": list(MESSAGE_TYPES),
                    "lazy_load_members": True,
                },
                "ephemeral": {"types": []},
                "account_data": {"types": ["m.fully_read"]},
            },
        },
        separators=(",", ":"),
    )


@dataclass(frozen=True)
class SyncedRoom:
    """One joined room as an initial /sync describes it."""

    channel: ChatChannel
    encrypted: bool
    timeline: list[dict[str, Any]]
    unread: int
    read_marker: str | None


def synced_room(room: str, data: Mapping[str, Any], direct: Mapping[str, str]) -> SyncedRoom | None:
    """One joined room of a /sync answer as a channel, or None for a space."""
    events = list(data.get("state", {}).get("events", []))
    timeline = list(data.get("timeline", {}).get("events", []))
    state = {
        str(event.get("type")): event.get("content", {})
        for event in events
        if event.get("state_key") == ""
    }
    if state.get("m.room.create", {}).get("type") == "m.space":
        return None
    summary = data.get("summary", {})
    members = summary.get("m.joined_member_count")
    if room in direct:
        kind: ChannelKind = "group" if isinstance(members, int) and members > 2 else "direct"
    else:
        public = state.get("m.room.join_rules", {}).get("join_rule") == "public"
        kind = "public" if public else "private"
    name = state.get("m.room.name", {}).get("name") or state.get("m.room.canonical_alias", {}).get(
        "alias"
    )
    topic = state.get("m.room.topic", {}).get("topic")
    messages = [event for event in timeline if event.get("type") in MESSAGE_TYPES]
    markers = [
        event.get("content", {}).get("event_id")
        for event in data.get("account_data", {}).get("events", [])
        if event.get("type") == "m.fully_read"
    ]
    return SyncedRoom(
        channel=ChatChannel(
            id=room,
            name=str(name) if isinstance(name, str) and name.strip() else "",
            kind=kind,
            topic=topic if isinstance(topic, str) else "",
            is_member=True,
            member_count=members if isinstance(members, int) else None,
            last_message_at=sent_at(messages[-1]) if messages else None,
        ),
        encrypted="m.room.encryption" in state,
        timeline=timeline,
        unread=int(data.get("unread_notifications", {}).get("notification_count") or 0),
        read_marker=markers[0] if markers else None,
    )


def renamed(room: SyncedRoom, name: str | None) -> SyncedRoom:
    """``room`` under ``name`` (unchanged when None)."""
    if name is None:
        return room
    channel = room.channel.model_copy(update={"name": name})
    return SyncedRoom(channel, room.encrypted, room.timeline, room.unread, room.read_marker)


def unread_messages(room: SyncedRoom, me: str, most: int) -> list[dict[str, Any]]:
    """The room's latest messages from others after the read marker, newest first."""
    events = room.timeline
    ids = [event.get("event_id") for event in events]
    if room.read_marker in ids:
        events = events[ids.index(room.read_marker) + 1 :]
    unread = [event for event in events if is_message(event) and event.get("sender") != me]
    return list(reversed(unread[-min(room.unread, most) :]))


def room_heroes(room: str, data: Mapping[str, Any], direct: Mapping[str, str]) -> list[str]:
    """The users an unnamed room is named after: the sync summary's, else the DM partner."""
    heroes = data.get("summary", {}).get("m.heroes")
    if isinstance(heroes, list) and heroes:
        return [str(user) for user in heroes[:5]]
    return [direct[room]] if room in direct else []


def direct_rooms(account_data: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """Room id -> the other user, from ``m.direct`` account data."""
    rooms: dict[str, str] = {}
    for event in account_data:
        if event.get("type") != "m.direct":
            continue
        for user, room_ids in (event.get("content") or {}).items():
            for room in room_ids if isinstance(room_ids, list) else []:
                rooms.setdefault(str(room), str(user))
    return rooms


def members_name(names: Sequence[str]) -> str:
    """The spec's name of an unnamed room from its members: ``Bob``, ``Bob and Carol``..."""
    if not names:
        return "Empty room"
    if len(names) <= 2:
        return " and ".join(names)
    return f"{names[0]}, {names[1]} and {len(names) - 2} others"
