"""The sandbox's chat REST API over a real socket: auth, scopes, pagination, search, writes."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import httpx2
import pytest

from multichat.sandbox import (
    SANDBOX_CLIENT_ID,
    SandboxServer,
    create_app,
    create_channel,
    issue_tokens,
    seed_channel,
)
from multichat.sandbox.errors import UnknownChannel

ALL = ["chat:read", "chat:write", "users:read"]
Api = Callable[..., httpx2.Client]


@pytest.fixture
def api(sandbox: SandboxServer) -> Iterator[Api]:
    """``api(scopes, user)`` is a client of the API with a fresh token of that user."""
    clients: list[httpx2.Client] = []

    def make(scopes: list[str] = ALL, user: str = "U01") -> httpx2.Client:
        token = issue_tokens(sandbox.app.state.db, SANDBOX_CLIENT_ID, user, scopes)
        http = httpx2.Client(
            base_url=sandbox.api_url,
            headers={"Authorization": f"Bearer {token['access_token']}"},
            timeout=10,
        )
        clients.append(http)
        return http

    yield make
    for http in clients:
        http.close()


def walk(http: httpx2.Client, path: str, **params: object) -> list[dict]:
    """Every item of a list, page by page."""
    items: list[dict] = []
    cursor = None
    for _ in range(1000):
        response = http.get(path, params={**params, **({"cursor": cursor} if cursor else {})})
        assert response.status_code == 200, response.text
        page = response.json()
        assert set(page) == {"items", "next_cursor"}
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("pagination did not end")


def test_every_call_needs_a_live_bearer_token(sandbox: SandboxServer):
    with httpx2.Client(base_url=sandbox.api_url, timeout=10) as anonymous:
        for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic eDp5"}):
            response = anonymous.get("/channels", headers=headers)
            assert response.status_code == 401
            assert response.headers["www-authenticate"].startswith("Bearer")
            assert response.json()["error"]["code"] == "unauthorized"


def test_me_is_ada(api: Api):
    assert api().get("/me").json() == {
        "id": "U01",
        "username": "ada",
        "name": "Ada Lovelace",
        "email": "ada@sandbox.example",
        "is_bot": False,
    }


def test_scopes_are_enforced(api: Api):
    reader = api(["chat:read"])
    assert reader.get("/channels").status_code == 200
    post = reader.post("/channels/C01/messages", json={"text": "hello"})
    assert post.status_code == 403
    assert post.json()["error"]["code"] == "insufficient_scope"
    assert 'scope="chat:write"' in post.headers["www-authenticate"]
    assert reader.get("/users").json()["error"]["code"] == "insufficient_scope"
    assert api(["users:read"]).get("/channels").status_code == 403


def test_users(api: Api):
    users = walk(api(), "/users", limit=3)
    assert [user["username"] for user in users] == [
        "ada",
        "grace",
        "alan",
        "katherine",
        "margaret",
        "dennis",
        "barbara",
        "deploybot",
    ]
    assert [user["is_bot"] for user in users].count(True) == 1


def test_channels_are_those_ada_can_see(api: Api):
    channels = {channel["name"]: channel for channel in walk(api(), "/channels", limit=2)}
    assert set(channels) == {
        "general",
        "engineering",
        "random",
        "announcements",
        "design",
        "leads",
        "dm-ada-grace",
    }
    assert channels["design"]["is_member"] is False
    assert channels["leads"] == {
        "id": "C06",
        "name": "leads",
        "kind": "private",
        "topic": "Team leads only",
        "is_member": True,
        "member_count": 4,
        "last_message_at": channels["leads"]["last_message_at"],
    }
    direct = api().get("/channels", params={"types": "direct"}).json()["items"]
    assert [channel["id"] for channel in direct] == ["D01"]
    assert api().get("/channels/C07").status_code == 404
    assert api().get("/channels", params={"types": "secret"}).status_code == 400


def test_pagination_walks_every_message_exactly_once(api: Api, sandbox: SandboxServer):
    messages = walk(api(), "/channels/C02/messages", limit=7)
    top_level = sandbox.app.state.db.query(
        "SELECT COUNT(*) FROM messages WHERE channel_id = 'C02' AND thread_seq IS NULL"
    )[0][0]
    ids = [message["id"] for message in messages]
    assert len(ids) == len(set(ids)) == top_level
    times = [message["created_at"] for message in messages]
    assert times == sorted(times, reverse=True)
    assert all(message["thread_id"] is None for message in messages)


def test_lists_reject_bad_limits_and_cursors(api: Api):
    http = api()
    for params in ({"limit": 0}, {"limit": 201}, {"cursor": "garbage"}):
        response = http.get("/channels/C01/messages", params=params)
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "invalid_request"
    users_cursor = http.get("/users", params={"limit": 1}).json()["next_cursor"]
    mixed = http.get("/channels/C01/messages", params={"cursor": users_cursor})
    assert mixed.status_code == 400


def test_time_windows(api: Api):
    http = api()
    everything = walk(http, "/channels/C01/messages", limit=200)
    wednesday = datetime(2025, 6, 4, tzinfo=UTC)
    thursday = datetime(2025, 6, 5, tzinfo=UTC)
    expected = [m for m in everything if "2025-06-04" <= m["created_at"] < "2025-06-05"]
    assert expected
    as_iso = walk(
        http,
        "/channels/C01/messages",
        oldest=wednesday.isoformat(),
        latest=thursday.isoformat().replace("+00:00", "Z"),
    )
    as_unix = walk(
        http, "/channels/C01/messages", oldest=wednesday.timestamp(), latest=thursday.timestamp()
    )
    assert as_iso == as_unix == expected
    assert http.get("/channels/C01/messages", params={"oldest": "soon"}).status_code == 400


def test_threads(api: Api):
    http = api()
    root = http.get("/search", params={"query": "flamegraph JSON serialization"}).json()["items"][0]
    assert root["user"] == {"id": "U02", "username": "grace", "name": "Grace Hopper"}
    assert root["thread_id"] is None
    assert root["reply_count"] == 3
    assert root["mentions"] == ["U01"]
    assert root["reactions"] == [{"name": "eyes", "count": 2, "users": ["U03", "U05"]}]
    replies = walk(http, f"/messages/{root['id']}/replies", limit=2)
    assert [reply["user"]["username"] for reply in replies] == ["ada", "alan", "grace"]
    assert {reply["thread_id"] for reply in replies} == {root["id"]}
    assert http.get(f"/messages/{root['id']}").json() == root
    assert http.get("/messages/M999999").status_code == 404
    assert http.get("/messages/not-an-id").json()["error"]["code"] == "not_found"


def test_post_reply_edit_and_delete_own_messages_only(api: Api):
    ada, grace = api(), api(user="U02")
    posted = ada.post("/channels/C01/messages", json={"text": "Lunch at noon, @grace?"})
    assert posted.status_code == 201
    message = posted.json()
    assert message["user"]["username"] == "ada"
    assert message["mentions"] == ["U02"]
    assert message["edited_at"] is None
    assert ada.get("/channels/C01/messages", params={"limit": 1}).json()["items"][0] == message

    reply = grace.post("/channels/C01/messages", json={"text": "Yes!", "thread_id": message["id"]})
    assert reply.json()["thread_id"] == message["id"]
    assert ada.get(f"/messages/{message['id']}").json()["reply_count"] == 1

    edited = ada.patch(f"/messages/{message['id']}", json={"text": "Lunch at 12:30, @grace?"})
    assert edited.status_code == 200
    assert edited.json()["text"] == "Lunch at 12:30, @grace?"
    assert edited.json()["edited_at"] is not None

    not_mine = ada.patch(f"/messages/{reply.json()['id']}", json={"text": "No"})
    assert not_mine.status_code == 403
    assert not_mine.json()["error"]["code"] == "forbidden"
    assert ada.delete(f"/messages/{reply.json()['id']}").status_code == 403

    assert ada.delete(f"/messages/{message['id']}").status_code == 204
    assert ada.get(f"/messages/{message['id']}").status_code == 404
    assert ada.get(f"/messages/{reply.json()['id']}").status_code == 404


def test_only_members_post(api: Api):
    http = api()
    outsider = http.post("/channels/C05/messages", json={"text": "hi design"})
    assert outsider.status_code == 403
    assert outsider.json()["error"]["code"] == "forbidden"
    assert http.post("/channels/C07/messages", json={"text": "hi"}).status_code == 404
    assert http.post("/channels/C01/messages", json={"text": "  "}).status_code == 400
    assert http.post("/channels/C01/messages", json={}).status_code == 400


def test_reactions_are_idempotent(api: Api):
    http = api()
    message = http.post("/channels/C03/messages", json={"text": "Cake in the kitchen"}).json()
    for _ in range(2):
        reacted = http.post(f"/messages/{message['id']}/reactions", json={"name": "tada"})
        assert reacted.status_code == 200
        assert reacted.json()["reactions"] == [{"name": "tada", "count": 1, "users": ["U01"]}]
    bad = http.post(f"/messages/{message['id']}/reactions", json={"name": "no spaces"})
    assert bad.status_code == 400
    removed = http.delete(f"/messages/{message['id']}/reactions/tada")
    assert removed.json()["reactions"] == []


def test_search_finds_seeded_messages_in_visible_channels(api: Api):
    http = api()
    found = walk(http, "/search", query="flamegraph", limit=1)
    assert len(found) == 2
    assert {item["channel_name"] for item in found} == {"engineering"}
    assert walk(http, "/search", query="postmortem")[0]["user"]["username"] == "dennis"
    assert len(walk(http, "/search", query="Lisbon")) == 1
    assert len(walk(http, "/search", query="nightingale", channel_id="D01")) == 1
    assert walk(http, "/search", query="nightingale", channel_id="C01") == []
    assert walk(http, "/search", query="payroll") == []  # only in people-ops
    stemmed = walk(http, "/search", query="deploy")
    assert any("Deploying" in item["text"] for item in stemmed)
    assert http.get("/search", params={"query": "!!"}).status_code == 400
    assert http.get("/search", params={"query": "x", "channel_id": "C07"}).status_code == 404


def test_a_search_query_is_bounded(api: Api):
    """6,000 words took 17.6 s (FTS5 grows with the square of the words): now refused at once."""
    from multichat.sandbox.chat_store import MAX_SEARCH_WORDS

    http = api()
    huge = http.get("/search", params={"query": "word " * 6000})
    many = http.get("/search", params={"query": " ".join(["a"] * (MAX_SEARCH_WORDS + 1))})
    most = http.get("/search", params={"query": " ".join(["deploy"] * MAX_SEARCH_WORDS)})

    assert huge.status_code == 400  # over 500 characters
    assert many.status_code == 400
    assert f"at most {MAX_SEARCH_WORDS}" in many.text
    assert most.status_code == 200


def test_mentions_of_ada(api: Api):
    mentions = walk(api(), "/mentions", limit=3)
    assert len(mentions) == 8
    assert all("@ada" in item["text"] and "U01" in item["mentions"] for item in mentions)
    assert "people-ops" not in {item["channel_name"] for item in mentions}
    times = [item["created_at"] for item in mentions]
    assert times == sorted(times, reverse=True)


def test_read_markers(api: Api):
    http = api()
    marker = http.get("/channels/C04/read-marker").json()
    assert marker["channel_id"] == "C04"
    assert marker["last_read_message_id"] is not None
    assert marker["unread_count"] > 0
    newest = http.get("/channels/C04/messages", params={"limit": 1}).json()["items"][0]
    updated = http.post("/channels/C04/read-marker", json={"message_id": newest["id"]})
    assert updated.json() == {
        "channel_id": "C04",
        "last_read_message_id": newest["id"],
        "unread_count": 0,
    }
    elsewhere = http.get("/channels/C01/messages", params={"limit": 1}).json()["items"][0]
    wrong = http.post("/channels/C04/read-marker", json={"message_id": elsewhere["id"]})
    assert wrong.status_code == 404
    assert (
        api(["chat:read"])
        .post("/channels/C04/read-marker", json={"message_id": newest["id"]})
        .json()["error"]["code"]
        == "insufficient_scope"
    )
    restored = http.post(
        "/channels/C04/read-marker", json={"message_id": marker["last_read_message_id"]}
    )
    assert restored.json() == marker


def test_every_channel_ada_is_in_has_unread_messages(api: Api):
    http = api()
    for channel in walk(http, "/channels"):
        if channel["is_member"]:
            marker = http.get(f"/channels/{channel['id']}/read-marker").json()
            assert marker["unread_count"] > 0, channel["name"]


def test_unknown_routes_use_the_error_shape(api: Api):
    response = api().get("/nowhere")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_the_openapi_description_covers_the_api(sandbox: SandboxServer):
    schema = httpx2.get(f"{sandbox.url}/openapi.json", timeout=10).json()
    assert "/api/v1/channels/{channel_id}/messages" in schema["paths"]
    assert "/oauth/token" in schema["paths"]


def test_seeding_is_deterministic():
    first, second = create_app(), create_app()
    dump = (
        "SELECT seq, channel_id, user_id, text, created_at, thread_seq FROM messages ORDER BY seq"
    )
    rows = first.state.db.query(dump)
    assert 300 < len(rows) < 600
    assert [tuple(row) for row in rows] == [tuple(row) for row in second.state.db.query(dump)]


def test_seed_channel_builds_a_big_channel_fast():
    app = create_app(seed=False)
    channel_id = create_channel(app.state.db, "bench")
    started = time.monotonic()
    ids = seed_channel(app.state.db, "bench", 10_000)
    assert time.monotonic() - started < 10
    assert len(ids) == len(set(ids)) == 10_000
    count = app.state.db.query("SELECT COUNT(*) FROM messages WHERE channel_id = ?", (channel_id,))
    assert count[0][0] == 10_000
    with pytest.raises(UnknownChannel):
        seed_channel(app.state.db, "no-such-channel", 1)


def test_sandbox_server_serves_on_a_real_socket_and_stops():
    with SandboxServer(seed=False) as server:
        assert server.url.startswith("http://127.0.0.1:")
        assert httpx2.get(f"{server.url}/", timeout=10).json()["client_id"] == SANDBOX_CLIENT_ID
        port = server.port
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0


def test_concurrent_writes_all_land(api: Api):
    http = api()
    texts = [f"parallel message {n}" for n in range(24)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(
            pool.map(lambda text: http.post("/channels/C03/messages", json={"text": text}), texts)
        )
    assert [response.status_code for response in results] == [201] * len(texts)
    ids = [response.json()["id"] for response in results]
    assert len(set(ids)) == len(ids)
    newest = http.get("/channels/C03/messages", params={"limit": len(texts)}).json()["items"]
    assert {item["text"] for item in newest} == set(texts)


def test_the_sandbox_does_not_import_the_cli():
    code = (
        "import sys, multichat.sandbox; "
        "print(sorted(m for m in ('typer', 'copier', 'multichat.cli') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"
