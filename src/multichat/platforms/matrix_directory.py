"""Who and where, cached per process: the signed-in user, display names and room names.

Results carry names beside ids (PRESETS.md), so that the model never has to list users to read
a message: names come with /sync and /messages (lazy-loaded member events) and are looked up
(``GET /profile``, room state) only when missing, each cache bounded.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from multichat.chat.cache import BoundedCache
from multichat.chat.models import ChatUser
from multichat.errors import UserError
from multichat.platforms.matrix_events import V3, localpart, segment
from multichat.platforms.matrix_sync import members_name
from multichat.runtime.platform_client import PlatformClient, PlatformError


@dataclass(frozen=True)
class Room:
    """What messages need to know about their room."""

    name: str
    encrypted: bool


class Directory:
    """Names of users and rooms, and the signed-in user, for one provider's adapter."""

    def __init__(self, api: Callable[[], PlatformClient], size: int = 4096) -> None:
        """Ask through ``api()`` (the provider's client of the running loop); keep ``size``."""
        self._api = api
        self._user_id: str | None = None
        self._names: BoundedCache[str, str] = BoundedCache(size)
        self._rooms: BoundedCache[str, Room] = BoundedCache(size // 4)

    async def me(self, *, fresh: bool = False) -> str:
        """The signed-in user's id (``GET /account/whoami`` once, or again when ``fresh``)."""
        if self._user_id is None or fresh:
            self._user_id = str((await self._api().get(f"{V3}/account/whoami"))["user_id"])
        return self._user_id

    def name(self, user_id: str) -> str:
        """The user's display name as far as known, else the localpart of the id."""
        return self._names.get(user_id) or localpart(user_id)

    def user(self, user_id: str) -> ChatUser:
        """The user as the tools show one: ``username`` is the id without ``@``."""
        return ChatUser(id=user_id, username=user_id.removeprefix("@"), name=self.name(user_id))

    def learn_name(self, user_id: str, name: str) -> None:
        """Remember a display name the homeserver sent along."""
        self._names.put(user_id, name)

    def learn_members(self, events: Iterable[Mapping[str, Any]]) -> None:
        """Remember the display names of ``m.room.member`` state events."""
        for event in events:
            if event.get("type") != "m.room.member":
                continue
            name = event.get("content", {}).get("displayname")
            if isinstance(name, str) and name and isinstance(event.get("state_key"), str):
                self._names.put(event["state_key"], name)

    async def resolve(self, user_ids: Iterable[str]) -> None:
        """Profiles (``GET /profile/{userId}``) of users whose names are not known yet."""
        unknown = sorted({user for user in user_ids if self._names.get(user) is None})

        async def profile(user: str) -> None:
            try:
                answer = await self._api().get(f"{V3}/profile/{segment(user)}")
            except PlatformError as exc:
                if exc.status not in (403, 404):
                    raise
                answer = {}
            name = answer.get("displayname")
            self._names.put(user, name if isinstance(name, str) and name else localpart(user))

        await asyncio.gather(*(profile(user) for user in unknown))

    async def state(self, room: str, kind: str) -> dict[str, Any] | None:
        """``GET /rooms/{roomId}/state/{type}/``: the content, or None when it is not set."""
        try:
            answer: dict[str, Any] = await self._api().get(
                f"{V3}/rooms/{segment(room)}/state/{kind}/"
            )
        except PlatformError as exc:
            if exc.status == 404:
                return None
            raise
        return answer

    async def room(self, room: str) -> Room:
        """The room's name and whether it is encrypted, from its state (cached)."""
        known = self._rooms.get(room)
        if known is not None:
            return known
        named, encryption = await asyncio.gather(
            self.state(room, "m.room.name"), self.state(room, "m.room.encryption")
        )
        name = named.get("name") if named else None
        if not isinstance(name, str) or not name.strip():
            name = await self._unnamed_room(room)
        info = Room(name=name, encrypted=encryption is not None)
        self._rooms.put(room, info)
        return info

    async def _unnamed_room(self, room: str) -> str:
        """Its alias, else its other members' names, as the spec's room-name rules say."""
        alias, members = await asyncio.gather(
            self.state(room, "m.room.canonical_alias"),
            self._api().get(f"{V3}/rooms/{segment(room)}/joined_members"),
        )
        if alias and isinstance(alias.get("alias"), str):
            return str(alias["alias"])
        me = await self.me()
        others = []
        for user, profile in sorted(members.get("joined", {}).items()):
            name = profile.get("display_name") if isinstance(profile, dict) else None
            if isinstance(name, str) and name:
                self._names.put(user, name)
            if user != me:
                others.append(name or localpart(user))
        return members_name(others)

    def remember_room(self, room: str, info: Room) -> None:
        """Remember what a /sync said about a room."""
        self._rooms.put(room, info)

    async def refuse_encrypted(self, room: str) -> None:
        """Refuse to write into an encrypted room (read fresh: a room can turn encrypted)."""
        known = self._rooms.get(room)
        encrypted = known.encrypted if known else False
        if not encrypted:
            encrypted = await self.state(room, "m.room.encryption") is not None
        if encrypted:
            name = known.name if known else room
            raise UserError(
                f"{name} is end-to-end encrypted and this provider cannot encrypt: nothing was "
                "sent (clear text there would downgrade the room's security)"
            )
