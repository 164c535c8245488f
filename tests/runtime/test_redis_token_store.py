"""What only the Redis token store does: the lease of its lock, masked URLs, one-line errors
when Redis is down, its keys, and how ``server.token_store`` / ``MULTICHAT_REDIS_URL`` choose it.
The contract it shares with the JSON file is in test_token_store_contract.py.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from helpers import LinePump, free_port, run_cli, stop_process
from support.redis_server import RedisServer

from multichat.errors import ConfigError
from multichat.runtime import load_config, provider_auth
from multichat.runtime.loader import activate_workspace
from multichat.runtime.redis_token_store import (
    RedisTokenStore,
    default_namespace,
    mask_url,
    provider_store,
    token_key,
)
from multichat.runtime.token_access import reset_provider_auth
from multichat.runtime.token_store import JsonFileTokenStore, TokenStoreError

ACCESS = "sbx_at_REDIS-secret-access-0001"
REFRESH = "sbx_rt_REDIS-secret-refresh-0001"
KEY = token_key("tests", "alpha")


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://:s3cret@127.0.0.1:6379/0", "redis://:***@127.0.0.1:6379/0"),
        ("rediss://app:s3cret@cache.internal:6380/2", "rediss://app:***@cache.internal:6380/2"),
        ("redis://127.0.0.1:6379/0?password=s3cret&db=1", "redis://127.0.0.1:6379/0?password=***&db=1"),
        ("unix:///run/redis.sock?password=s3cret", "unix:///run/redis.sock?password=***"),
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
    ],
)  # fmt: skip
def test_mask_url_hides_the_password_and_keeps_the_rest(url: str, shown: str):
    assert mask_url(url) == shown


def test_the_key_has_a_slot_for_the_user():
    assert token_key("team", "slack") == "multichat:team:slack:-:token"
    assert token_key("team", "slack", "U123") == "multichat:team:slack:U123:token"


def test_repr_and_location_mask_the_password(redis_server: RedisServer, redis_url: str):
    store = RedisTokenStore(redis_url, KEY)
    store.save({"access_token": ACCESS})
    for text in (repr(store), store.location, store.url):
        assert redis_server.password not in text
        assert ACCESS not in text
        assert "***" in text


def test_the_token_is_one_json_string_under_its_key(redis_server: RedisServer, redis_url: str):
    RedisTokenStore(redis_url, KEY).save({"access_token": ACCESS, "refresh_token": REFRESH})
    raw = redis_server.client(1).get(KEY)
    assert json.loads(raw) == {"access_token": ACCESS, "refresh_token": REFRESH}
    assert redis_server.client(1).ttl(KEY) == -1  # never expires by itself


# ---- a holder killed with SIGKILL blocks only until its lease ends ----------------------------

HOLDER = textwrap.dedent(
    """
    import sys, time
    from multichat.runtime.redis_token_store import RedisTokenStore
    store = RedisTokenStore(sys.argv[1], sys.argv[2], lock_lease=float(sys.argv[3]))
    with store.lock():
        print("held", flush=True)
        time.sleep(600)
    """
)


def test_a_holder_killed_mid_lock_frees_it_when_its_lease_ends(redis_url: str):
    store = RedisTokenStore(redis_url, KEY, lock_lease=30, lock_wait=30)
    store.save({"access_token": ACCESS, "refresh_token": REFRESH})
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, redis_url, KEY, "1.5"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        pump = LinePump(holder.stdout)
        assert pump.next_line(time.monotonic() + 60) == "held\n"
        impatient = RedisTokenStore(redis_url, KEY, lock_lease=30, lock_wait=0.2)
        with pytest.raises(TokenStoreError, match="stayed taken"):
            impatient.lock().__enter__()
        holder.send_signal(signal.SIGKILL)
        holder.wait(30)
        with store.lock():  # waits out the dead holder's lease, at most lock_wait
            pass
    finally:
        stop_process(holder)
    assert store.load() == {"access_token": ACCESS, "refresh_token": REFRESH}


def test_a_lock_that_outlived_its_lease_is_released_without_error(
    redis_url: str, caplog: pytest.LogCaptureFixture
):
    store = RedisTokenStore(redis_url, KEY, lock_lease=0.3, lock_wait=5)
    other = RedisTokenStore(redis_url, KEY, lock_lease=30, lock_wait=5)
    with store.lock(), other.lock():  # the second got in after the first lease ended
        pass
    assert "outlived its 0.3 s lease" in caplog.text


# ---- Redis down, or the wrong password: one line, masked --------------------------------------


def test_redis_down_is_one_line_naming_the_url_without_password():
    port = free_port()
    store = RedisTokenStore(f"redis://:hunter2-secret@127.0.0.1:{port}/0", KEY)
    for action in (store.load, lambda: store.save({"access_token": ACCESS}), store.ping):
        with pytest.raises(TokenStoreError) as caught:
            action()
        message = str(caught.value)
        assert f"redis://:***@127.0.0.1:{port}/0" in message
        assert "cannot reach Redis" in message
        assert "\n" not in message
        assert "hunter2" not in message
        assert ACCESS not in message
        assert caught.value.__cause__ is None
        assert caught.value.__suppress_context__


def test_a_wrong_password_is_named_without_showing_it(redis_server: RedisServer):
    store = RedisTokenStore(f"redis://:wrong-pass-9@127.0.0.1:{redis_server.port}/1", KEY)
    with pytest.raises(TokenStoreError, match="refused the credentials") as caught:
        store.load()
    assert "wrong-pass-9" not in str(caught.value)
    assert redis_server.password not in str(caught.value)


# ---- choosing the store: server.token_store and MULTICHAT_REDIS_URL ----------------------------


def _configure(workspace: Path, **settings: object) -> None:
    lines = "".join(f"    {key}: {json.dumps(value)}\n" for key, value in settings.items())
    path = workspace / "provider-config.yaml"
    path.write_text(path.read_text() + "server:\n  token_store:\n" + lines)
    activate_workspace(load_config(path))
    reset_provider_auth()


def test_server_token_store_puts_the_token_in_redis_not_in_a_file(
    workspace, add_provider, redis_server: RedisServer, redis_url: str
):
    add_provider("alpha")
    _configure(workspace, url=redis_url, namespace="team-a", lock_lease=7)
    auth = provider_auth("alpha")
    store = auth.store()
    assert isinstance(store, RedisTokenStore)
    assert store.key == "multichat:team-a:alpha:-:token"
    assert store.lock_lease == 7
    assert store.lock_wait == 14

    auth.save_credentials({"access_token": ACCESS, "refresh_token": REFRESH, "expires_in": 3600})
    reset_provider_auth()
    assert provider_auth("alpha").require_credentials().access_token == ACCESS
    assert not (workspace / "src" / "providers" / "alpha" / "token.json").exists()
    assert json.loads(redis_server.client(1).get(store.key))["refresh_token"] == REFRESH
    report = provider_auth("alpha").status()
    assert report["authenticated"] is True
    assert report["source"] == "redis"
    assert redis_server.password not in json.dumps(report)
    assert ACCESS not in json.dumps(report)
    # An explicit token_path is still that file.
    assert isinstance(auth.store(workspace / "elsewhere.json"), JsonFileTokenStore)


def test_redis_going_down_while_serving_says_so_not_sign_in_again(workspace, add_provider):
    """A call that cannot reach the store must not send anyone to sign in again."""
    add_provider("alpha")
    port = free_port()  # nothing listens there: Redis is down
    _configure(workspace, url=f"redis://:hunter2-secret@127.0.0.1:{port}/0")
    with pytest.raises(TokenStoreError) as caught:
        provider_auth("alpha").require_credentials()
    message = str(caught.value)
    assert "cannot reach Redis" in message
    assert "multichat auth" not in message
    assert "hunter2" not in message


def test_the_environment_url_wins_and_the_namespace_defaults_to_the_folder(
    workspace, add_provider, redis_url: str, monkeypatch: pytest.MonkeyPatch
):
    add_provider("alpha")
    config = load_config(workspace / "provider-config.yaml")
    activate_workspace(config)
    reset_provider_auth()
    assert isinstance(provider_auth("alpha").store(), JsonFileTokenStore)
    monkeypatch.setenv("MULTICHAT_REDIS_URL", redis_url)
    store = provider_store(config, "alpha")
    assert store.key == f"multichat:{default_namespace(config)}:alpha:-:token"
    assert default_namespace(config) == workspace.name
    monkeypatch.setenv("MULTICHAT_REDIS_URL", "http://:pw-in-env@cache:6379")
    with pytest.raises(ConfigError, match="MULTICHAT_REDIS_URL") as caught:
        provider_store(config, "alpha")
    assert "pw-in-env" not in str(caught.value)


def test_a_url_that_is_not_redis_is_refused_without_repeating_it(workspace, add_provider):
    add_provider("alpha")
    path = workspace / "provider-config.yaml"
    path.write_text(path.read_text() + 'server:\n  token_store:\n    url: "http://:pw-9@x"\n')
    with pytest.raises(ConfigError, match=r"token_store\.url") as caught:
        load_config(path)
    assert "pw-9" not in str(caught.value)


def test_the_default_start_path_never_imports_redis(workspace, add_provider):
    add_provider("alpha")
    probe = (
        "import json, sys\n"
        "from multichat.runtime import build_server, load_config, provider_auth\n"
        "from multichat.runtime.loader import activate_workspace\n"
        f"config = load_config({str(workspace / 'provider-config.yaml')!r})\n"
        "activate_workspace(config)\n"
        "build_server(config)\n"
        "provider_auth('alpha').get_credentials()\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("MULTICHAT_")}
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, env=env
    )
    assert result.returncode == 0, result.stderr
    assert "redis" not in json.loads(result.stdout)


def test_run_with_redis_down_is_one_line_without_password_or_traceback(workspace, add_provider):
    add_provider("alpha")
    port = free_port()
    result = run_cli(
        "run",
        "--transport",
        "http",
        "--port",
        str(free_port()),
        cwd=workspace,
        env={"MULTICHAT_REDIS_URL": f"redis://:hunter2-secret@127.0.0.1:{port}/0"},
        timeout=60,
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"redis://:***@127.0.0.1:{port}/0" in lines[0]
    assert "cannot reach Redis" in lines[0]
    assert "hunter2" not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


def test_each_person_has_a_key_of_their_own_in_redis(
    workspace, add_provider, redis_server: RedisServer, redis_url: str
):
    from multichat.runtime.users import UserIdentity, acting_as

    add_provider("alpha")
    _configure(workspace, url=redis_url, namespace="team-a")
    alice = UserIdentity(issuer="https://idp.example", subject="alice")
    bob = UserIdentity(issuer="https://idp.example", subject="bob")
    with acting_as(alice):
        store = provider_auth("alpha").store()
        provider_auth("alpha").save_credentials({"access_token": "alice-token"})
    with acting_as(bob):
        bob_sees = provider_auth("alpha").get_credentials()

    assert store.key == f"multichat:team-a:alpha:{alice.key}:token"
    assert bob_sees is None
    assert provider_auth("alpha").get_credentials() is None  # nor does the server's own slot
    assert json.loads(redis_server.client(1).get(store.key))["access_token"] == "alice-token"
