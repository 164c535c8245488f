"""Twenty rooms of realistic Matrix content on a ``SynapseServer``, for a preset's tests to read.

Event shapes follow the client-server API (https://spec.matrix.org/latest/client-server-api/):
threads (``m.thread``), reactions (``m.annotation``), edits (``m.replace``), replies, mentions
(``m.mentions``), HTML bodies (``org.matrix.custom.html``), a redaction, direct rooms listed in
``m.direct`` account data, and one encrypted room whose ciphertext is sent raw.
"""

from __future__ import annotations

import asyncio
import base64
import os
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx2

from support.synapse import MatrixUser, SynapseError, SynapseServer

SEARCH_WORD = "pelican"
"""A word found only in seeded messages (the thread root and the mention), for ``/search``."""

ENCRYPTED_ROOM = "secret-plans"
_ENCRYPTED_TOPIC = "End-to-end encrypted"

_GROUP_ROOMS = {
    "general": "Company-wide chatter",
    "engineering": "Builds, deploys and code review",
    "design": "Mockups and the style guide",
    "random": "Anything goes",
    "announcements": "Read-only news from the team leads",
    "product": "Roadmap and feature requests",
    "support": "Customer tickets that need a hand",
    "marketing": "Campaigns and the blog calendar",
    "sales": "Deals in flight",
    "ops": "On-call hand-offs and incidents",
    "security": "Advisories and audits",
    "data": "Dashboards and SQL questions",
    "mobile": "The iOS and Android apps",
    "web": "The web client",
    "infra": "Servers, DNS and certificates",
    "hiring": "Interview loops",
    "social": "Lunch plans and trivia",
}
"""Seventeen named rooms; with two direct rooms and the encrypted one, twenty in all."""

_UNREAD = frozenset({"general", "engineering", "random", "announcements", "dm-peer"})
"""Rooms whose last messages come from others after the reader's read marker."""

_CONCURRENCY = 8


@dataclass(frozen=True)
class SeededEvent:
    """One event the seeding sent, and the room (by label) it is in."""

    room: str
    room_id: str
    event_id: str


@dataclass(frozen=True)
class SeededRooms:
    """What ``seed_rooms`` made, so that tests assert on it instead of on constants.

    ``rooms`` maps a label to a room ID: the room's name for the named rooms, ``dm-peer`` and
    ``dm-third`` for the two direct rooms (which have no name and no topic). ``messages`` lists,
    per label, the ``m.room.message`` / ``m.room.encrypted`` events in the order they were sent
    (thread replies and the redacted message included, edits and reactions not).
    """

    reader: MatrixUser
    peer: MatrixUser
    third: MatrixUser
    rooms: dict[str, str]
    topics: dict[str, str]
    direct_rooms: dict[str, str]
    unread_rooms: frozenset[str]
    messages: dict[str, tuple[str, ...]]
    thread_root: SeededEvent
    thread_replies: tuple[SeededEvent, ...]
    reactions: tuple[SeededEvent, ...]
    mention: SeededEvent
    reply: SeededEvent
    formatted: SeededEvent
    edited: SeededEvent
    edit: SeededEvent
    redacted: SeededEvent
    encrypted: SeededEvent
    encrypted_room: str = ENCRYPTED_ROOM
    search_word: str = SEARCH_WORD


@dataclass
class _Room:
    """A room being seeded: its label, its ID and its messages so far."""

    label: str
    room_id: str
    messages: list[str] = field(default_factory=list)
    last_event: str = ""


class _Seeder:
    """Client-server API calls as the three users, at most ``_CONCURRENCY`` at a time."""

    def __init__(self, http: httpx2.AsyncClient) -> None:
        self.http = http
        self.limit = asyncio.Semaphore(_CONCURRENCY)

    async def call(
        self, user: MatrixUser, method: str, path: str, body: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        async with self.limit:
            response = await self.http.request(
                method,
                f"/_matrix/client/v3{path}",
                json=body,
                headers={"Authorization": f"Bearer {user.access_token}"},
            )
        if response.is_error:
            raise SynapseError(f"{method} {path} answered {response.status_code}: {response.text}")
        answer: dict[str, Any] = response.json()
        return answer

    async def create_room(self, creator: MatrixUser, label: str, **options: Any) -> _Room:
        answer = await self.call(creator, "POST", "/createRoom", options)
        return _Room(label, answer["room_id"])

    async def join(self, room: _Room, *users: MatrixUser) -> None:
        await asyncio.gather(
            *(self.call(user, "POST", f"/join/{quote(room.room_id)}", {}) for user in users)
        )

    async def send(
        self, room: _Room, user: MatrixUser, content: dict[str, Any], kind: str = "m.room.message"
    ) -> str:
        path = f"/rooms/{quote(room.room_id)}/send/{kind}/{uuid.uuid4().hex}"
        event_id: str = (await self.call(user, "PUT", path, content))["event_id"]
        if kind in ("m.room.message", "m.room.encrypted") and "m.new_content" not in content:
            room.messages.append(event_id)
        room.last_event = event_id
        return event_id

    async def text(self, room: _Room, user: MatrixUser, body: str) -> str:
        return await self.send(room, user, {"msgtype": "m.text", "body": body})

    async def redact(self, room: _Room, user: MatrixUser, event_id: str, reason: str) -> str:
        path = f"/rooms/{quote(room.room_id)}/redact/{quote(event_id)}/{uuid.uuid4().hex}"
        redaction: str = (await self.call(user, "PUT", path, {"reason": reason}))["event_id"]
        room.last_event = redaction
        return redaction

    async def mark_read(self, room: _Room, user: MatrixUser, event_id: str) -> None:
        """Move ``user``'s read marker and public read receipt to ``event_id``."""
        body = {"m.fully_read": event_id, "m.read": event_id}
        await self.call(user, "POST", f"/rooms/{quote(room.room_id)}/read_markers", body)


#: Seconds without a seeded person in the user directory before they set their name again.
REINDEX_AFTER = 5.0


def seed_rooms(
    server: SynapseServer, reader: MatrixUser, peer: MatrixUser, third: MatrixUser
) -> SeededRooms:
    """Seed twenty rooms for ``reader`` (the account a preset signs in as); see ``SeededRooms``.

    ``peer`` mentions ``reader`` and shares a direct room with them; ``third`` joins some rooms
    and has the other direct room. Call it again with new users for an independent copy.
    """
    return asyncio.run(seed_rooms_async(server, reader, peer, third))


async def seed_rooms_async(
    server: SynapseServer, reader: MatrixUser, peer: MatrixUser, third: MatrixUser
) -> SeededRooms:
    """``seed_rooms`` for callers already inside an event loop."""
    async with httpx2.AsyncClient(base_url=server.url, timeout=60) as http:
        seeder = _Seeder(http)
        plan = _Plan(seeder, reader, peer, third)
        await asyncio.gather(
            *(
                plan.group_room(index, label, topic)
                for index, (label, topic) in enumerate(_GROUP_ROOMS.items())
            ),
            plan.direct_room("dm-peer", peer),
            plan.direct_room("dm-third", third),
            plan.encrypted_room(),
        )
        await plan.direct_account_data()
        await _directory_lists(http, reader, [peer, third])
        return plan.result()


async def _directory_lists(
    http: httpx2.AsyncClient, reader: MatrixUser, people: list[MatrixUser], seconds: float = 60.0
) -> None:
    """Wait until Synapse's user directory, filled in the background, shows ``people``.

    A test that lists users right after seeding otherwise races the directory's update. A
    Synapse that started just before can also miss a user registered while its directory
    was first being filled (2 of 4 full runs at one stop); a profile change is what makes it
    index a user, so every :data:`REINDEX_AFTER` seconds a missing person sets their display
    name again.
    """
    server_name = reader.user_id.split(":", 1)[1]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    nudge_at = loop.time() + REINDEX_AFTER
    while True:
        answer = await http.post(
            "/_matrix/client/v3/user_directory/search",
            json={"search_term": server_name, "limit": 100},
            headers={"Authorization": f"Bearer {reader.access_token}"},
        )
        found = {result["user_id"] for result in answer.json().get("results", [])}
        missing = [person for person in people if person.user_id not in found]
        if not missing:
            return
        if loop.time() > deadline:
            raise AssertionError(
                f"the user directory still lacks {[p.user_id for p in missing]}: it answered "
                f"HTTP {answer.status_code} {answer.text[:300]}"
            )
        if loop.time() > nudge_at:
            nudge_at = loop.time() + REINDEX_AFTER
            for person in missing:
                await http.put(
                    f"/_matrix/client/v3/profile/{quote(person.user_id)}/displayname",
                    json={"displayname": person.display_name},
                    headers={"Authorization": f"Bearer {person.access_token}"},
                )
        await asyncio.sleep(0.2)


class _Plan:
    """What goes in each room; fills in the events a test will look for as it sends them."""

    def __init__(
        self, seeder: _Seeder, reader: MatrixUser, peer: MatrixUser, third: MatrixUser
    ) -> None:
        self.seeder = seeder
        self.reader, self.peer, self.third = reader, peer, third
        self.rooms: dict[str, _Room] = {}
        self.events: dict[str, SeededEvent] = {}
        self.thread_replies: list[SeededEvent] = []
        self.reactions: list[SeededEvent] = []

    def _note(self, key: str, room: _Room, event_id: str) -> None:
        self.events[key] = SeededEvent(room.label, room.room_id, event_id)

    async def group_room(self, index: int, label: str, topic: str) -> None:
        """A named room of ``reader`` and ``peer`` (every third one with ``third`` too)."""
        s, reader, peer = self.seeder, self.reader, self.peer
        members = [reader, peer] + ([self.third] if index % 3 == 0 else [])
        creator = peer if label == "announcements" else reader
        others = [user for user in members if user is not creator]
        room = await s.create_room(
            creator,
            label,
            name=label,
            topic=topic,
            preset="private_chat",
            invite=[user.user_id for user in others],
        )
        self.rooms[label] = room
        await s.join(room, *others)
        await s.text(room, peer, f"Morning! Anything new in {label}?")
        await s.text(room, reader, f"Yes: the {label} notes are up to date.")
        specials = {
            "general": self._general,
            "engineering": self._engineering,
            "design": self._design,
        }
        await self._conversation(room, specials.get(label))

    async def _conversation(
        self,
        room: _Room,
        special: Callable[[_Room], Awaitable[None]] | None = None,
        speaker: MatrixUser | None = None,
    ) -> None:
        """The room's own content, then the reader's read marker: before the end when unread.

        An unread room ends with two messages from ``speaker`` (``peer`` by default) after the
        marker, so its special content (such as the mention) is unread too.
        """
        s, other = self.seeder, speaker or self.peer
        unread = room.label in _UNREAD
        if unread:
            await s.mark_read(room, self.reader, room.last_event)
        if special is not None:
            await special(room)
        if unread:
            await s.text(room, other, f"One more thing about {room.label}.")
            await s.text(room, other, "Ping me when you are back.")
        else:
            await s.text(room, other, "Thanks, that settles it.")
            await s.mark_read(room, self.reader, room.last_event)

    async def _general(self, room: _Room) -> None:
        s, reader = self.seeder, self.reader
        # Mentions: https://spec.matrix.org/latest/client-server-api/#user-and-room-mentions
        # The display name in the body also fires the legacy .m.rule.contains_display_name.
        name = reader.display_name
        link = f'<a href="https://matrix.to/#/{reader.user_id}">{name}</a>'
        mention = await s.send(
            room,
            self.peer,
            {
                "msgtype": "m.text",
                "body": f"{name}: could you review the {SEARCH_WORD} rollout?",
                "format": "org.matrix.custom.html",
                "formatted_body": f"{link}: could you review the {SEARCH_WORD} rollout?",
                "m.mentions": {"user_ids": [reader.user_id]},
            },
        )
        self._note("mention", room, mention)
        # Rich replies: https://spec.matrix.org/latest/client-server-api/#rich-replies
        reply = await s.send(
            room,
            reader,
            {
                "msgtype": "m.text",
                "body": "Sure, after lunch.",
                "m.relates_to": {"m.in_reply_to": {"event_id": mention}},
            },
        )
        self._note("reply", room, reply)

    async def _engineering(self, room: _Room) -> None:
        s, reader, peer = self.seeder, self.reader, self.peer
        root = await s.text(room, reader, f"Deploy plan for the {SEARCH_WORD} release, thread here")
        self._note("thread_root", room, root)
        # Threads: https://spec.matrix.org/latest/client-server-api/#threading
        latest = root
        for user, body in ((peer, "Staging is green."), (reader, "Then we ship at 3pm.")):
            latest = await s.send(
                room,
                user,
                {
                    "msgtype": "m.text",
                    "body": body,
                    "m.relates_to": {
                        "rel_type": "m.thread",
                        "event_id": root,
                        "is_falling_back": True,
                        "m.in_reply_to": {"event_id": latest},
                    },
                },
            )
            self.thread_replies.append(SeededEvent(room.label, room.room_id, latest))
        # Reactions: https://spec.matrix.org/latest/client-server-api/#event-annotations-and-reactions
        for user, key in ((peer, "👍"), (reader, "🎉")):
            relation = {"rel_type": "m.annotation", "event_id": root, "key": key}
            reaction = await s.send(room, user, {"m.relates_to": relation}, "m.reaction")
            self.reactions.append(SeededEvent(room.label, room.room_id, reaction))

    async def _design(self, room: _Room) -> None:
        s, reader, peer = self.seeder, self.reader, self.peer
        formatted = await s.send(
            room,
            reader,
            {
                "msgtype": "m.text",
                "body": "Style guide v2: **bold** headings, _italic_ captions, `code` in mono",
                "format": "org.matrix.custom.html",
                "formatted_body": (
                    "<p>Style guide v2: <strong>bold</strong> headings, <em>italic</em>"
                    " captions, <code>code</code> in mono</p>"
                    "<ul><li>colours</li><li>spacing</li></ul>"
                ),
            },
        )
        self._note("formatted", room, formatted)
        # Edits: https://spec.matrix.org/latest/client-server-api/#event-replacements
        edited = await s.text(room, reader, "Design review on Tuesday")
        edit = await s.send(
            room,
            reader,
            {
                "msgtype": "m.text",
                "body": "* Design review on Wednesday",
                "m.new_content": {"msgtype": "m.text", "body": "Design review on Wednesday"},
                "m.relates_to": {"rel_type": "m.replace", "event_id": edited},
            },
        )
        self._note("edited", room, edited)
        self._note("edit", room, edit)
        # Redactions: https://spec.matrix.org/latest/client-server-api/#redactions
        redacted = await s.text(room, peer, "oops, wrong room")
        await s.redact(room, peer, redacted, "posted in the wrong room")
        self._note("redacted", room, redacted)

    async def direct_room(self, label: str, other: MatrixUser) -> None:
        """An unnamed room with ``is_direct``, listed in both users' ``m.direct`` later."""
        s = self.seeder
        room = await s.create_room(
            self.reader,
            label,
            preset="trusted_private_chat",
            is_direct=True,
            invite=[other.user_id],
        )
        self.rooms[label] = room
        await s.join(room, other)
        await s.text(room, other, "Hey, got a minute?")
        await s.text(room, self.reader, "Sure, what's up?")
        await self._conversation(room, speaker=other)

    async def encrypted_room(self) -> None:
        """A room with ``m.room.encryption`` state and one ``m.room.encrypted`` event, sent raw.

        https://spec.matrix.org/latest/client-server-api/#mroomencryption and #mmegolmv1aes-sha2;
        the ciphertext is random bytes: no test can (or should) decrypt it.
        """
        s, reader, peer = self.seeder, self.reader, self.peer
        encryption = {"algorithm": "m.megolm.v1.aes-sha2"}
        room = await s.create_room(
            reader,
            ENCRYPTED_ROOM,
            name=ENCRYPTED_ROOM,
            topic=_ENCRYPTED_TOPIC,
            preset="private_chat",
            invite=[peer.user_id],
            initial_state=[{"type": "m.room.encryption", "state_key": "", "content": encryption}],
        )
        self.rooms[ENCRYPTED_ROOM] = room
        await s.join(room, peer)
        encrypted = await s.send(
            room,
            peer,
            {
                **encryption,
                "sender_key": _random_base64(32),
                "ciphertext": _random_base64(96),
                "session_id": _random_base64(32),
                "device_id": peer.device_id,
            },
            "m.room.encrypted",
        )
        self._note("encrypted", room, encrypted)
        await s.mark_read(room, reader, encrypted)

    async def direct_account_data(self) -> None:
        """``m.direct`` for all three users: https://spec.matrix.org/latest/client-server-api/#mdirect."""
        s = self.seeder
        peer_room, third_room = self.rooms["dm-peer"].room_id, self.rooms["dm-third"].room_id
        for user, content in (
            (self.reader, {self.peer.user_id: [peer_room], self.third.user_id: [third_room]}),
            (self.peer, {self.reader.user_id: [peer_room]}),
            (self.third, {self.reader.user_id: [third_room]}),
        ):
            await s.call(user, "PUT", f"/user/{quote(user.user_id)}/account_data/m.direct", content)

    def result(self) -> SeededRooms:
        events = self.events
        return SeededRooms(
            reader=self.reader,
            peer=self.peer,
            third=self.third,
            rooms={label: room.room_id for label, room in sorted(self.rooms.items())},
            topics={**_GROUP_ROOMS, ENCRYPTED_ROOM: _ENCRYPTED_TOPIC},
            direct_rooms={
                self.peer.user_id: self.rooms["dm-peer"].room_id,
                self.third.user_id: self.rooms["dm-third"].room_id,
            },
            unread_rooms=_UNREAD,
            messages={label: tuple(room.messages) for label, room in sorted(self.rooms.items())},
            thread_root=events["thread_root"],
            thread_replies=tuple(self.thread_replies),
            reactions=tuple(self.reactions),
            mention=events["mention"],
            reply=events["reply"],
            formatted=events["formatted"],
            edited=events["edited"],
            edit=events["edit"],
            redacted=events["redacted"],
            encrypted=events["encrypted"],
        )


def _random_base64(size: int) -> str:
    """Unpadded base64 of random bytes, the encoding Matrix uses for keys and ciphertext."""
    return base64.b64encode(os.urandom(size)).decode().rstrip("=")
