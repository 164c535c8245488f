"""The token-store contract (load, save, delete, lock, location, repr), one set of tests run on
every store: the JSON file and Redis. What only one store does is tested beside it
(test_tokens.py for the file, test_redis_token_store.py for Redis).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from multichat.errors import MultichatError
from multichat.runtime.token_store import JsonFileTokenStore, TokenStore, TokenStoreError

ACCESS = "xoxp-access-CONTRACT-1234"
KEY = "multichat:contract:alpha:-:token"


@dataclass
class StoreCase:
    """A store, a second store on the same token, and a way to put raw bytes where it reads."""

    store: TokenStore
    contender: Callable[[float], TokenStore]
    write_raw: Callable[[str], None]


def _json_case(tmp_path: Path) -> StoreCase:
    path = tmp_path / "tokens" / "token.json"

    def write_raw(text: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)

    return StoreCase(
        JsonFileTokenStore(path, lock_timeout=10),
        lambda wait: JsonFileTokenStore(path, lock_timeout=wait),
        write_raw,
    )


def _redis_case(url: str) -> StoreCase:
    import redis

    from multichat.runtime.redis_token_store import RedisTokenStore

    raw = redis.Redis.from_url(url)
    return StoreCase(
        RedisTokenStore(url, KEY, lock_lease=10),
        lambda wait: RedisTokenStore(url, KEY, lock_lease=10, lock_wait=wait),
        lambda text: raw.set(KEY, text),
    )


@pytest.fixture(params=["json", "redis"])
def case(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreCase]:
    if request.param == "json":
        yield _json_case(tmp_path)
    else:
        yield _redis_case(request.getfixturevalue("redis_url"))


def test_load_of_a_missing_token_is_none(case: StoreCase):
    assert case.store.load() is None


def test_save_then_load_gives_the_token_back(case: StoreCase):
    token: dict[str, Any] = {"access_token": ACCESS, "expires_at": 1.5, "scope": ["a", "b"]}
    case.store.save(token)
    assert case.store.load() == token
    assert case.contender(1).load() == token


def test_save_replaces_the_whole_token(case: StoreCase):
    case.store.save({"access_token": ACCESS, "refresh_token": "r-1"})
    case.store.save({"access_token": ACCESS + "-2"})
    assert case.store.load() == {"access_token": ACCESS + "-2"}


def test_delete_reports_whether_there_was_a_token(case: StoreCase):
    case.store.save({"access_token": ACCESS})
    assert case.store.delete() is True
    assert case.store.delete() is False
    assert case.store.load() is None


def test_invalid_json_raises_without_echoing_the_content(case: StoreCase):
    case.write_raw('{"access_token": "' + ACCESS + '", oops')
    with pytest.raises(TokenStoreError) as caught:
        case.store.load()
    message = str(caught.value)
    assert ACCESS not in message
    assert "oops" not in message
    assert case.store.location.split(" ")[0] in message
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__
    assert isinstance(caught.value, MultichatError)


def test_a_json_non_object_raises(case: StoreCase):
    case.write_raw(json.dumps([ACCESS]))
    with pytest.raises(TokenStoreError, match="JSON object") as caught:
        case.store.load()
    assert ACCESS not in str(caught.value)


def test_the_lock_keeps_out_a_second_holder_until_released(case: StoreCase):
    refused: list[str] = []
    entered = threading.Event()

    def contend() -> None:
        try:
            with case.contender(0.3).lock():
                entered.set()
        except TokenStoreError as exc:
            refused.append(str(exc))

    with case.store.lock():
        thread = threading.Thread(target=contend)
        thread.start()
        thread.join(30)
    assert not thread.is_alive()
    assert len(refused) == 1, refused
    assert "try again" in refused[0]
    assert not entered.is_set()

    thread = threading.Thread(target=contend)
    thread.start()
    thread.join(30)
    assert entered.is_set()


def test_repr_and_location_never_hold_the_token(case: StoreCase):
    case.store.save({"access_token": ACCESS})
    assert ACCESS not in repr(case.store)
    assert ACCESS not in case.store.location
    assert case.store.location
