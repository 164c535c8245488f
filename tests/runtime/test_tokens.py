"""Credentials, the JSON token store and ProviderAuth: masking, expiry, file safety, caching."""

from __future__ import annotations

import json
import stat
import time
from pathlib import Path

import pytest

from multichat.errors import MultichatError, NotAuthenticated
from multichat.runtime import token_access
from multichat.runtime.config import CONFIG_FILENAME, use_config
from multichat.runtime.credentials import EXPIRY_SKEW_SECONDS, Credentials
from multichat.runtime.token_access import ProviderAuth, provider_auth
from multichat.runtime.token_store import JsonFileTokenStore, TokenStoreError

ACCESS = "xoxb-access-SECRET-1234"
REFRESH = "xoxr-refresh-SECRET-5678"


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# ---- Credentials --------------------------------------------------------------------------


def test_credentials_mask_secrets_in_repr_and_str():
    credentials = Credentials(
        {
            "access_token": ACCESS,
            "refresh_token": REFRESH,
            "id_token": "id-SECRET",
            "token_type": "Bearer",
            "scope": "chat:read",
        }
    )

    for shown in (repr(credentials), str(credentials), f"{credentials}", str([credentials])):
        assert ACCESS not in shown
        assert REFRESH not in shown
        assert "id-SECRET" not in shown
        assert "***" in shown
        assert "Bearer" in shown
        assert "chat:read" in shown


def test_credentials_are_a_read_only_mapping_with_the_token():
    credentials = Credentials({"access_token": ACCESS, "scope": "a,b c"})

    assert credentials["access_token"] == ACCESS
    assert credentials.access_token == ACCESS
    assert dict(credentials) == {"access_token": ACCESS, "scope": "a,b c"}
    assert credentials.scopes == ["a", "b", "c"]
    with pytest.raises(TypeError):
        credentials["access_token"] = "other"  # type: ignore[index]


def test_credentials_copy_their_input():
    data = {"access_token": ACCESS}
    credentials = Credentials(data)
    data["access_token"] = "changed"

    assert credentials.access_token == ACCESS


def test_expires_in_becomes_expires_at():
    before = time.time()
    credentials = Credentials({"access_token": ACCESS, "expires_in": 3600})
    after = time.time()

    assert credentials.expires_at is not None
    assert before + 3600 <= credentials.expires_at <= after + 3600
    assert "expires_at" in credentials.to_dict()


def test_an_explicit_expires_at_wins_over_expires_in():
    credentials = Credentials({"access_token": ACCESS, "expires_in": 3600, "expires_at": 1234.5})

    assert credentials.expires_at == 1234.5


def test_no_expiry_means_never_expired():
    credentials = Credentials({"access_token": ACCESS})

    assert credentials.expires_at is None
    assert credentials.is_expired(now=10**12) is False
    assert credentials.is_usable()


def test_is_expired_counts_60_seconds_of_skew():
    credentials = Credentials({"access_token": ACCESS, "expires_at": 10_000})

    assert EXPIRY_SKEW_SECONDS == 60
    assert credentials.is_expired(now=10_000 - 61) is False
    assert credentials.is_expired(now=10_000 - 60) is True
    assert credentials.is_expired(now=10_000 - 30) is True
    assert credentials.is_expired(now=10_001) is True
    assert credentials.is_expired(now=9_999, skew=0) is False
    assert credentials.is_expired(now=10_000, skew=0) is True


def test_a_token_without_access_token_is_not_usable():
    assert not Credentials({"refresh_token": REFRESH}).is_usable()
    assert not Credentials({"access_token": ""}).is_usable()


# ---- JsonFileTokenStore -------------------------------------------------------------------


def test_save_creates_a_0600_file_in_a_0700_folder(tmp_path):
    path = tmp_path / "new-folder" / "token.json"
    store = JsonFileTokenStore(path)

    store.save({"access_token": ACCESS})

    assert mode_of(path.parent) == 0o700
    assert mode_of(path) == 0o600
    assert json.loads(path.read_text()) == {"access_token": ACCESS}
    assert store.load() == {"access_token": ACCESS}


def test_save_tightens_an_existing_wide_file(tmp_path):
    path = tmp_path / "token.json"
    path.write_text("{}")
    path.chmod(0o644)

    JsonFileTokenStore(path).save({"access_token": ACCESS})

    assert mode_of(path) == 0o600


def test_save_leaves_no_temporary_files(tmp_path):
    folder = tmp_path / "tokens"
    store = JsonFileTokenStore(folder / "token.json")

    for round_ in range(3):
        store.save({"access_token": f"{ACCESS}-{round_}"})

    assert sorted(p.name for p in folder.iterdir()) == ["token.json"]
    assert store.load() == {"access_token": f"{ACCESS}-2"}


def test_a_failed_save_keeps_the_old_token_and_leaves_nothing_behind(tmp_path):
    folder = tmp_path / "tokens"
    store = JsonFileTokenStore(folder / "token.json")
    store.save({"access_token": ACCESS})

    with pytest.raises(TypeError):
        store.save({"access_token": object()})

    assert store.load() == {"access_token": ACCESS}
    assert sorted(p.name for p in folder.iterdir()) == ["token.json"]


def test_load_of_a_missing_file_is_none(tmp_path):
    assert JsonFileTokenStore(tmp_path / "absent.json").load() is None


def test_load_of_invalid_json_raises_without_echoing_the_content(tmp_path):
    path = tmp_path / "token.json"
    path.write_text('{"access_token": "' + ACCESS + '", oops')
    store = JsonFileTokenStore(path)

    with pytest.raises(TokenStoreError) as caught:
        store.load()
    message = str(caught.value)

    assert str(path) in message
    assert ACCESS not in message
    assert "oops" not in message
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__
    assert isinstance(caught.value, MultichatError)


def test_load_of_a_json_non_object_raises(tmp_path):
    path = tmp_path / "token.json"
    path.write_text(json.dumps([ACCESS]))

    with pytest.raises(TokenStoreError, match="JSON object") as caught:
        JsonFileTokenStore(path).load()
    assert ACCESS not in str(caught.value)


def test_delete_reports_whether_there_was_a_token(tmp_path):
    store = JsonFileTokenStore(tmp_path / "token.json")
    store.save({"access_token": ACCESS})

    assert store.delete() is True
    assert store.delete() is False
    assert store.load() is None


def test_lock_creates_the_folder_and_is_reentrant_in_one_thread(tmp_path):
    store = JsonFileTokenStore(tmp_path / "fresh" / "token.json", lock_timeout=5)

    with store.lock(), store.lock():
        store.save({"access_token": ACCESS})

    assert mode_of(tmp_path / "fresh") == 0o700
    assert store.load() == {"access_token": ACCESS}


def test_store_repr_names_the_file_only(tmp_path):
    store = JsonFileTokenStore(tmp_path / "token.json")
    store.save({"access_token": ACCESS})

    assert ACCESS not in repr(store)
    assert "token.json" in repr(store)


# ---- ProviderAuth -------------------------------------------------------------------------


@pytest.fixture
def token_file(tmp_path: Path) -> Path:
    """A workspace config whose provider ``alpha`` keeps its token in ``tokens/alpha.json``."""
    config = tmp_path / "ws" / CONFIG_FILENAME
    config.parent.mkdir()
    config.write_text("providers:\n  alpha:\n    token_path: tokens/alpha.json\n")
    use_config(config)
    return (tmp_path / "ws" / "tokens" / "alpha.json").resolve()


def write_token(path: Path, token: dict[str, object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(token))


def test_token_path_comes_from_the_config(token_file):
    auth = ProviderAuth("alpha")

    assert auth.token_path() == token_file
    assert auth.token_info["token_path"] == str(token_file)


def test_get_credentials_is_none_without_a_token_file(token_file):
    assert ProviderAuth("alpha").get_credentials() is None
    assert not token_file.exists()


def test_get_credentials_reads_the_file_once_then_serves_the_cache(token_file):
    write_token(token_file, {"access_token": ACCESS, "expires_in": 3600})
    auth = ProviderAuth("alpha")

    first = auth.get_credentials()
    assert first is not None
    assert first["access_token"] == ACCESS

    # A file read now would fail loudly; the warm path must not read it at all.
    token_file.write_text("not json at all")
    assert auth.get_credentials() is first
    token_file.unlink()
    assert auth.get_credentials() is first
    assert auth.token_info["credentials"] is first


def test_an_explicit_token_path_bypasses_and_keeps_the_cache(token_file, tmp_path):
    other = tmp_path / "other.json"
    write_token(other, {"access_token": "other-token"})
    auth = ProviderAuth("alpha")

    explicit = auth.get_credentials(other)

    assert explicit is not None
    assert explicit.access_token == "other-token"
    assert auth.token_info["credentials"] is None
    assert auth.get_credentials() is None


@pytest.mark.parametrize("seconds_left", [-10, 0, 30, EXPIRY_SKEW_SECONDS - 1])
def test_an_expired_or_almost_expired_token_is_none(token_file, seconds_left):
    write_token(token_file, {"access_token": ACCESS, "expires_at": time.time() + seconds_left})

    assert ProviderAuth("alpha").get_credentials() is None


def test_an_expired_cached_token_is_replaced_from_the_file(token_file):
    auth = ProviderAuth("alpha")
    auth.token_info["credentials"] = Credentials({"access_token": "stale", "expires_at": 0})
    write_token(token_file, {"access_token": ACCESS, "expires_in": 3600})

    fresh = auth.get_credentials()

    assert fresh is not None
    assert fresh.access_token == ACCESS
    assert auth.token_info["credentials"] is fresh


def test_require_credentials_names_the_command_that_fixes_it(token_file):
    auth = ProviderAuth("alpha")

    with pytest.raises(NotAuthenticated, match=r"run `multichat auth alpha`"):
        auth.require_credentials()

    token_file.parent.mkdir(parents=True)
    token_file.write_text('{"access_token": "' + ACCESS + '"')
    with pytest.raises(NotAuthenticated) as caught:
        auth.require_credentials()
    assert "multichat auth alpha" in str(caught.value)
    assert ACCESS not in str(caught.value)


def test_save_credentials_writes_the_file_and_the_cache(token_file):
    auth = ProviderAuth("alpha")

    saved = auth.save_credentials({"access_token": ACCESS, "refresh_token": REFRESH})

    assert mode_of(token_file) == 0o600
    assert json.loads(token_file.read_text())["access_token"] == ACCESS
    assert auth.token_info["credentials"] is saved
    assert auth.token_info["last_refresh"] is not None
    assert auth.get_credentials() is saved


def test_a_token_file_deleted_by_hand_signs_the_server_out(token_file, monkeypatch):
    monkeypatch.setattr(token_access, "FILE_CHECK_INTERVAL", 0.0)  # check on every call
    auth = ProviderAuth("alpha")
    auth.save_credentials({"access_token": ACCESS})
    assert auth.get_credentials() is not None

    token_file.unlink()  # `rm token.json`, or `multichat auth alpha --logout` elsewhere

    assert auth.get_credentials() is None
    with pytest.raises(NotAuthenticated, match=r"no token yet\): run `multichat auth alpha`"):
        auth.require_credentials()


def test_a_token_file_replaced_by_another_process_is_read_again(token_file, monkeypatch):
    monkeypatch.setattr(token_access, "FILE_CHECK_INTERVAL", 0.0)
    auth = ProviderAuth("alpha")
    auth.save_credentials({"access_token": ACCESS})
    assert auth.get_credentials().access_token == ACCESS  # type: ignore[union-attr]

    JsonFileTokenStore(token_file).save({"access_token": "xoxb-from-another-process"})

    assert auth.get_credentials().access_token == "xoxb-from-another-process"  # type: ignore[union-attr]


def test_a_warm_call_looks_at_the_file_once_per_interval_only(token_file, monkeypatch):
    looked: list[str] = []
    stamp = token_access._file_stamp
    monkeypatch.setattr(
        token_access, "_file_stamp", lambda path: looked.append(path) or stamp(path)
    )
    monkeypatch.setattr(token_access, "FILE_CHECK_INTERVAL", 3600.0)
    auth = ProviderAuth("alpha")
    saved = auth.save_credentials({"access_token": ACCESS})
    looked.clear()

    assert all(auth.get_credentials() is saved for _ in range(1000))
    assert looked == []
    auth.token_info["checked"] -= 3600  # the interval has passed
    assert auth.get_credentials() is saved
    assert looked == [str(token_file)]


@pytest.mark.parametrize(
    "response",
    [
        {"type": "about:blank", "title": "Bad Request", "detail": "invalid code"},
        {"error": "invalid_grant"},
        {"access_token": ""},
    ],
)
def test_save_credentials_refuses_a_response_without_access_token(token_file, response):
    auth = ProviderAuth("alpha")

    with pytest.raises(TokenStoreError, match="access_token"):
        auth.save_credentials(response)

    assert not token_file.exists()
    assert auth.token_info["credentials"] is None


def test_status_never_contains_the_token(token_file):
    auth = ProviderAuth("alpha")
    signed_out = auth.status()
    assert signed_out["authenticated"] is False
    assert signed_out["token_file"] is False

    auth.save_credentials(
        {
            "access_token": ACCESS,
            "refresh_token": REFRESH,
            "expires_at": 4_000_000_000,
            "scope": "chat:read chat:write",
        }
    )
    status = auth.status()

    assert status["authenticated"] is True
    assert status["token_file"] is True
    assert status["scopes"] == ["chat:read", "chat:write"]
    assert status["expires_at"] == "2096-10-02T07:06:40+00:00"
    assert status["expires_in_seconds"] > 0
    dumped = json.dumps(status)
    assert ACCESS not in dumped
    assert REFRESH not in dumped


def test_status_of_a_broken_file_reports_an_error_not_the_content(token_file):
    token_file.parent.mkdir(parents=True)
    token_file.write_text(ACCESS + " {")

    status = ProviderAuth("alpha").status()

    assert status["authenticated"] is False
    assert "not valid JSON" in status["error"]
    assert ACCESS not in json.dumps(status)


def test_provider_auth_repr_hides_the_token(token_file):
    auth = ProviderAuth("alpha")
    auth.save_credentials({"access_token": ACCESS})

    assert ACCESS not in repr(auth)


def test_provider_auth_is_one_instance_per_provider():
    assert provider_auth("alpha") is provider_auth("alpha")
    assert provider_auth("alpha") is not provider_auth("beta")
