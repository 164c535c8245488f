"""The Synapse fixtures against the real server: sign-in, refresh, and every kind of seeded content.

Endpoints as https://spec.matrix.org/latest/client-server-api/ describes them.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any
from urllib.parse import quote

import httpx2
import pytest
from support.synapse import DEFAULT_ACCESS_TOKEN_LIFETIME_MS, SynapseServer
from support.synapse_fixtures import SHORT_ACCESS_TOKEN_LIFETIME_MS
from support.synapse_seed import SeededRooms

V3 = "/_matrix/client/v3"
V1 = "/_matrix/client/v1"


def _get(server: SynapseServer, token: str, path: str, **params: str) -> dict[str, Any]:
    with server.client(token) as http:
        response = http.get(path, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _whoami(server: SynapseServer, token: str) -> httpx2.Response:
    with server.client(token) as http:
        return http.get(f"{V3}/account/whoami")


def _refresh(server: SynapseServer, refresh_token: str) -> httpx2.Response:
    with server.client() as http:
        return http.post(f"{V3}/refresh", json={"refresh_token": refresh_token})


def test_password_login_answers_a_refreshable_access_token(
    synapse: SynapseServer, synapse_seeded: SeededRooms
) -> None:
    reader = synapse_seeded.reader

    tokens = synapse.login(reader)

    assert tokens.user_id == reader.user_id == synapse.user_id("alice")
    assert tokens.refresh_token
    assert tokens.expires_in_ms is not None
    assert 0 < tokens.expires_in_ms <= DEFAULT_ACCESS_TOKEN_LIFETIME_MS
    assert _whoami(synapse, tokens.access_token).json()["device_id"] == tokens.device_id


def test_a_refresh_token_is_spent_once_its_successor_is_used(synapse: SynapseServer) -> None:
    # Synapse (MSC2918) still accepts the old refresh token until the new access token or refresh
    # token is used, so that a client that lost the answer can retry; then it answers 403.
    user = synapse.register_user()
    first = synapse.login(user)
    assert first.refresh_token

    answer = _refresh(synapse, first.refresh_token)
    assert answer.status_code == 200, answer.text
    second = answer.json()
    assert second["refresh_token"] != first.refresh_token
    assert second["expires_in_ms"] > 0
    assert _whoami(synapse, second["access_token"]).json()["user_id"] == user.user_id

    reused = _refresh(synapse, first.refresh_token)
    assert reused.status_code == 403
    assert reused.json()["errcode"] == "M_FORBIDDEN"
    assert _refresh(synapse, second["refresh_token"]).status_code == 200


def test_the_reader_is_in_twenty_rooms(synapse: SynapseServer, synapse_seeded: SeededRooms) -> None:
    joined = _get(synapse, synapse_seeded.reader.access_token, f"{V3}/joined_rooms")

    assert len(synapse_seeded.rooms) == 20
    assert set(joined["joined_rooms"]) == set(synapse_seeded.rooms.values())


def test_sync_shows_names_direct_rooms_and_unread_counts(
    synapse: SynapseServer, synapse_seeded: SeededRooms
) -> None:
    seeded = synapse_seeded
    room_filter = {"room": {"timeline": {"limit": 1}}}
    sync = _get(synapse, seeded.reader.access_token, f"{V3}/sync", filter=json.dumps(room_filter))
    joined = sync["rooms"]["join"]
    label_of = {room_id: label for label, room_id in seeded.rooms.items()}

    unread = {
        label_of[r]
        for r, room in joined.items()
        if room["unread_notifications"]["notification_count"]
    }
    highlighted = {
        label_of[r] for r, room in joined.items() if room["unread_notifications"]["highlight_count"]
    }
    assert unread == seeded.unread_rooms
    assert highlighted == {seeded.mention.room}

    general = joined[seeded.rooms["general"]]["state"]["events"]
    names = [e["content"]["name"] for e in general if e["type"] == "m.room.name"]
    topics = [e["content"]["topic"] for e in general if e["type"] == "m.room.topic"]
    assert names == ["general"]
    assert topics == [seeded.topics["general"]]

    account_data = {e["type"]: e["content"] for e in sync["account_data"]["events"]}
    direct = account_data["m.direct"]
    assert {user: rooms[0] for user, rooms in direct.items()} == seeded.direct_rooms


def test_the_encrypted_room_has_its_encryption_state_and_a_ciphertext(
    synapse: SynapseServer, synapse_seeded: SeededRooms
) -> None:
    seeded = synapse_seeded
    token = seeded.reader.access_token
    room_id = quote(seeded.rooms[seeded.encrypted_room])

    state = _get(synapse, token, f"{V3}/rooms/{room_id}/state/m.room.encryption/")
    event = _get(synapse, token, f"{V3}/rooms/{room_id}/event/{quote(seeded.encrypted.event_id)}")

    assert state["algorithm"] == "m.megolm.v1.aes-sha2"
    assert event["type"] == "m.room.encrypted"
    assert event["content"]["algorithm"] == "m.megolm.v1.aes-sha2"
    assert event["content"]["ciphertext"]


def test_notifications_list_the_mention_as_a_highlight(
    synapse: SynapseServer, synapse_seeded: SeededRooms
) -> None:
    seeded = synapse_seeded

    answer = _get(synapse, seeded.reader.access_token, f"{V3}/notifications", only="highlight")

    events = {n["event"]["event_id"]: n["event"] for n in answer["notifications"]}
    assert set(events) == {seeded.mention.event_id}
    mention = events[seeded.mention.event_id]
    assert mention["sender"] == seeded.peer.user_id
    assert mention["content"]["m.mentions"] == {"user_ids": [seeded.reader.user_id]}
    assert mention["content"]["format"] == "org.matrix.custom.html"


def test_search_finds_the_seeded_word(synapse: SynapseServer, synapse_seeded: SeededRooms) -> None:
    seeded = synapse_seeded
    body = {"search_categories": {"room_events": {"search_term": seeded.search_word}}}

    with synapse.client(seeded.reader.access_token) as http:
        answer = http.post(f"{V3}/search", json=body)

    assert answer.status_code == 200, answer.text
    results = answer.json()["search_categories"]["room_events"]["results"]
    found = {result["result"]["event_id"] for result in results}
    assert found == {seeded.thread_root.event_id, seeded.mention.event_id}


def test_relations_show_the_thread_and_its_reactions(
    synapse: SynapseServer, synapse_seeded: SeededRooms
) -> None:
    seeded = synapse_seeded
    root = seeded.thread_root
    base = f"{V1}/rooms/{quote(root.room_id)}/relations/{quote(root.event_id)}"
    token = seeded.reader.access_token

    thread = _get(synapse, token, f"{base}/m.thread")
    reactions = _get(synapse, token, f"{base}/m.annotation")
    threads = _get(synapse, token, f"{V1}/rooms/{quote(root.room_id)}/threads")

    assert {e["event_id"] for e in thread["chunk"]} == {e.event_id for e in seeded.thread_replies}
    assert {e["event_id"] for e in reactions["chunk"]} == {e.event_id for e in seeded.reactions}
    assert [e["event_id"] for e in threads["chunk"]] == [root.event_id]
    summary = threads["chunk"][0]["unsigned"]["m.relations"]["m.thread"]
    assert summary["count"] == len(seeded.thread_replies)


def test_the_edit_and_the_redaction_show_on_their_events(
    synapse: SynapseServer, synapse_seeded: SeededRooms
) -> None:
    seeded = synapse_seeded
    token = seeded.reader.access_token

    def event(seeded_event: Any) -> dict[str, Any]:
        room, event_id = quote(seeded_event.room_id), quote(seeded_event.event_id)
        return _get(synapse, token, f"{V3}/rooms/{room}/event/{event_id}")

    edited, redacted, formatted = (
        event(seeded.edited),
        event(seeded.redacted),
        event(seeded.formatted),
    )

    replacement = edited["unsigned"]["m.relations"]["m.replace"]
    assert replacement["event_id"] == seeded.edit.event_id
    assert redacted["content"] == {}
    assert redacted["unsigned"]["redacted_because"]["sender"] == seeded.peer.user_id
    assert formatted["content"]["format"] == "org.matrix.custom.html"
    assert "<strong>" in formatted["content"]["formatted_body"]


def test_short_lived_access_tokens_expire_and_say_so(synapse_short_lived: SynapseServer) -> None:
    server = synapse_short_lived
    tokens = server.login(server.register_user())
    assert tokens.expires_in_ms is not None
    assert 0 < tokens.expires_in_ms <= SHORT_ACCESS_TOKEN_LIFETIME_MS

    deadline = time.monotonic() + SHORT_ACCESS_TOKEN_LIFETIME_MS / 1000 + 30
    answer = _whoami(server, tokens.access_token)
    while answer.status_code == 200 and time.monotonic() < deadline:
        time.sleep(0.2)
        answer = _whoami(server, tokens.access_token)

    assert answer.status_code == 401
    assert answer.json()["errcode"] == "M_UNKNOWN_TOKEN"
    assert answer.json()["soft_logout"] is True


def test_the_server_stops_by_its_pid() -> None:
    with SynapseServer(server_name="example.test") as server:
        url, pid, folder = server.url, server.pid, server.folder
        assert server.user_id("zoe") == "@zoe:example.test"
        assert httpx2.get(f"{url}/_matrix/client/versions", timeout=10).status_code == 200

    with pytest.raises(httpx2.TransportError):
        httpx2.get(f"{url}/_matrix/client/versions", timeout=2)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert not folder.exists()
