"""Sign-in tickets and pending sign-ins, in this process and in Redis: one contract.

Redis is the real redis-server of ``support.redis_server`` (a password, a database emptied per
test). What only Redis does: several instances take one entry once, ages survive the trip,
and nothing in Redis is a secret in clear.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from cryptography.fernet import Fernet
from support.redis_server import RedisServer
from team_server import ALICE

from multichat.runtime.redis_token_store import RedisPlace
from multichat.runtime.signin_entries import (
    DeviceShown,
    MemoryEntries,
    RedisEntries,
    SignInEntries,
    SignInEntry,
)

LIFETIME = 600.0
TICKET = "ticket-ZmFrZS10aWNrZXQtdmFsdWUtZm9yLXRlc3Rz"
VERIFIER = "pkce-verifier-c2VjcmV0LXZlcmlmaWVyLXZhbHVlLWZvci10ZXN0cw"


@pytest.fixture(params=["memory", "redis"])
def entries(request: pytest.FixtureRequest) -> Callable[[float], SignInEntries]:
    """``entries(lifetime)``: a fresh store of each kind."""
    if request.param == "memory":
        return lambda lifetime: MemoryEntries(lifetime, bound=4)
    redis_url = request.getfixturevalue("redis_url")
    key = Fernet.generate_key()
    return lambda lifetime: RedisEntries(RedisPlace(redis_url, "entries"), Fernet(key), lifetime)


def entry(age: float = 0.0, **changes: object) -> SignInEntry:
    fields: dict[str, object] = {
        "user": ALICE,
        "provider": "chat",
        "created": time.monotonic() - age,
        "browser_digest": b"\x01" * 32,
        **changes,
    }
    return SignInEntry(**fields)  # type: ignore[arg-type]


def test_an_entry_is_taken_once_with_what_it_held(entries: Callable[[float], SignInEntries]):
    store = entries(LIFETIME)
    kept = entry(age=100.0, tries=2, verifier=VERIFIER)
    store.put("pending", TICKET, kept)

    taken = store.take("pending", TICKET)
    assert taken is not None
    assert (taken.user, taken.provider, taken.tries) == (ALICE, "chat", 2)
    assert (taken.browser_digest, taken.verifier) == (kept.browser_digest, VERIFIER)
    assert abs((time.monotonic() - taken.created) - 100.0) < 5  # its age came along
    assert store.take("pending", TICKET) is None
    assert store.take("ticket", TICKET) is None  # kinds do not mix


def test_a_device_page_is_peeked_any_number_of_times(entries: Callable[[float], SignInEntries]):
    store = entries(LIFETIME)
    shown = DeviceShown("WXYZ-1234", "https://platform.example/device", None)
    store.put("device", TICKET, entry(device=shown))
    for _ in range(3):
        peeked = store.peek("device", TICKET)
        assert peeked is not None
        assert peeked.device == shown


def test_an_entry_past_its_lifetime_is_gone(entries: Callable[[float], SignInEntries]):
    store = entries(1.0)
    store.put("ticket", "old", entry(age=5.0))
    store.put("ticket", "fading", entry(age=0.9))
    assert store.take("ticket", "old") is None
    deadline = time.monotonic() + 10
    while store.peek("ticket", "fading") is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert store.take("ticket", "fading") is None


def test_of_many_instances_taking_one_ticket_one_gets_it(redis_url: str):
    key = Fernet.generate_key()
    stores = [RedisEntries(RedisPlace(redis_url, "race"), Fernet(key), LIFETIME) for _ in range(8)]
    stores[0].put("ticket", TICKET, entry())
    barrier = threading.Barrier(len(stores))
    got: list[SignInEntry | None] = []

    def take(store: RedisEntries) -> None:
        barrier.wait(timeout=10)
        got.append(store.take("ticket", TICKET))

    threads = [threading.Thread(target=take, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert len(got) == len(stores)
    assert sum(found is not None for found in got) == 1


def test_redis_holds_no_ticket_and_no_verifier_in_clear(redis_server: RedisServer, redis_url: str):
    store = RedisEntries(RedisPlace(redis_url, "clear"), Fernet(Fernet.generate_key()), LIFETIME)
    store.put("pending", TICKET, entry(verifier=VERIFIER))
    client = redis_server.client(1)
    keys = client.keys("*")
    assert len(keys) == 1
    assert keys[0].decode().startswith("multichat:clear:sign-in:pending:")
    assert TICKET.encode() not in keys[0]
    stored = client.get(keys[0])
    assert VERIFIER.encode() not in stored
    assert 0 < client.pttl(keys[0]) <= LIFETIME * 1000


def test_an_entry_written_with_another_key_is_as_good_as_gone(redis_url: str):
    place = RedisPlace(redis_url, "rekeyed")
    RedisEntries(place, Fernet(Fernet.generate_key()), LIFETIME).put(
        "pending", TICKET, entry(verifier=VERIFIER)
    )
    other = RedisEntries(place, Fernet(Fernet.generate_key()), LIFETIME)
    assert other.take("pending", TICKET) is None


def test_memory_keeps_at_most_its_bound_per_kind():
    store = MemoryEntries(LIFETIME, bound=2)
    for n in range(3):
        store.put("ticket", f"t{n}", entry())
    store.put("pending", "p", entry())
    assert store.peek("ticket", "t0") is None
    assert store.peek("ticket", "t2") is not None
    assert store.peek("pending", "p") is not None
