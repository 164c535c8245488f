"""provider-config.yaml: discovery, paths, caching and errors that name file, line and key."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from multichat.errors import ConfigError, ConfigNotFound, UnknownProvider, UserError
from multichat.runtime.config import (
    CONFIG_FILENAME,
    find_config,
    get_provider_config_value,
    load_config,
    use_config,
)

MINIMAL = "providers:\n  alpha:\n    name: Alpha\n    port: 8000\n"


def write_config(folder: Path, text: str = MINIMAL) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / CONFIG_FILENAME
    path.write_text(text, encoding="utf-8")
    return path


def config_error(path: Path) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return caught.value


# ---- discovery ----------------------------------------------------------------------------


def test_found_by_walking_up_from_the_working_directory(tmp_path, monkeypatch):
    path = write_config(tmp_path / "ws")
    deep = tmp_path / "ws" / "src" / "providers" / "alpha"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)

    assert find_config() == path.resolve()
    assert load_config().path == path.resolve()
    assert load_config().root == (tmp_path / "ws").resolve()


def test_the_nearest_file_wins_when_walking_up(tmp_path, monkeypatch):
    write_config(tmp_path / "outer", "providers:\n  outer: {name: Outer}\n")
    inner = write_config(tmp_path / "outer" / "inner", "providers:\n  inner: {name: Inner}\n")
    monkeypatch.chdir(inner.parent)

    assert list(load_config().providers) == ["inner"]


def test_not_found_names_the_folder_and_the_fix(tmp_path, monkeypatch):
    empty = tmp_path / "nowhere"
    empty.mkdir()
    monkeypatch.chdir(empty)
    if any((folder / CONFIG_FILENAME).is_file() for folder in empty.resolve().parents):
        pytest.skip(f"a {CONFIG_FILENAME} sits above the temporary folder")

    with pytest.raises(ConfigNotFound) as caught:
        load_config()
    message = str(caught.value)
    assert str(empty.resolve()) in message
    assert "multichat init" in message
    assert "--config" in message
    assert isinstance(caught.value, UserError)


def test_env_variable_beats_walking_up(tmp_path, monkeypatch):
    write_config(tmp_path / "here", "providers:\n  here: {name: Here}\n")
    elsewhere = write_config(tmp_path / "elsewhere", "providers:\n  there: {name: There}\n")
    monkeypatch.chdir(tmp_path / "here")
    monkeypatch.setenv("MULTICHAT_CONFIG", str(elsewhere))

    assert find_config() == elsewhere.resolve()
    assert list(load_config().providers) == ["there"]


def test_relative_env_variable_resolves_against_the_working_directory(tmp_path, monkeypatch):
    path = write_config(tmp_path / "conf", "providers:\n  rel: {name: Rel}\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MULTICHAT_CONFIG", os.path.join("conf", CONFIG_FILENAME))

    assert find_config() == path.resolve()


def test_env_variable_to_a_missing_file_is_config_not_found(tmp_path, monkeypatch):
    missing = tmp_path / "gone" / CONFIG_FILENAME
    monkeypatch.setenv("MULTICHAT_CONFIG", str(missing))

    with pytest.raises(ConfigNotFound, match="does not exist"):
        load_config()


def test_use_config_beats_the_env_variable_and_none_restores_discovery(tmp_path, monkeypatch):
    walked = write_config(tmp_path / "walked", "providers:\n  walked: {}\n")
    from_env = write_config(tmp_path / "env", "providers:\n  env: {}\n")
    chosen = write_config(tmp_path / "chosen", "providers:\n  chosen: {}\n")
    monkeypatch.chdir(walked.parent)
    monkeypatch.setenv("MULTICHAT_CONFIG", str(from_env))

    use_config(chosen)
    assert list(load_config().providers) == ["chosen"]

    use_config(None)
    assert list(load_config().providers) == ["env"]

    monkeypatch.delenv("MULTICHAT_CONFIG")
    assert list(load_config().providers) == ["walked"]


def test_an_explicit_path_beats_use_config(tmp_path):
    active = write_config(tmp_path / "active", "providers:\n  active: {}\n")
    explicit = write_config(tmp_path / "explicit", "providers:\n  explicit: {}\n")
    use_config(active)

    assert list(load_config(explicit).providers) == ["explicit"]
    assert list(load_config().providers) == ["active"]


@pytest.mark.parametrize("how", ["explicit", "env", "use_config"])
def test_a_symlinked_config_keeps_its_own_folder_as_the_workspace(tmp_path, monkeypatch, how):
    shared = write_config(tmp_path / "shared", "providers:\n  shared: {}\n")
    link = tmp_path / "ws" / CONFIG_FILENAME
    link.parent.mkdir()
    link.symlink_to(shared)
    monkeypatch.chdir(tmp_path / "ws")
    if how == "env":
        monkeypatch.setenv("MULTICHAT_CONFIG", CONFIG_FILENAME)
    if how == "use_config":
        use_config(CONFIG_FILENAME)

    config = load_config(CONFIG_FILENAME if how == "explicit" else None)

    assert config.root == (tmp_path / "ws").resolve()
    assert config.path == config.root / CONFIG_FILENAME
    assert list(config.providers) == ["shared"]


# ---- paths --------------------------------------------------------------------------------


def test_relative_paths_resolve_against_the_config_folder_not_the_cwd(tmp_path, monkeypatch):
    path = write_config(
        tmp_path / "ws",
        "providers:\n"
        "  alpha:\n"
        "    token_path: secrets/alpha-token.json\n"
        "    credentials_path: shared/../shared/creds.json\n",
    )
    monkeypatch.chdir(tmp_path)
    config = load_config(path)
    root = path.parent.resolve()

    assert config.root == root
    assert config.token_path("alpha") == root / "secrets" / "alpha-token.json"
    assert config.credentials_path("alpha") == root / "shared" / ".." / "shared" / "creds.json"
    assert config.resolve("a/b.txt") == root / "a" / "b.txt"


def test_absolute_and_home_paths_are_kept(tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    absolute = tmp_path / "abs" / "token.json"
    path = write_config(
        tmp_path / "ws",
        "providers:\n"
        "  alpha:\n"
        f"    token_path: {absolute}\n"
        "    credentials_path: ~/creds/alpha.json\n",
    )
    config = load_config(path)

    assert config.token_path("alpha") == absolute
    assert config.credentials_path("alpha") == home / "creds" / "alpha.json"


def test_token_and_credentials_paths_default_to_the_provider_package(tmp_path):
    config = load_config(write_config(tmp_path / "ws", "providers:\n  alpha: {name: A}\n"))
    package = (tmp_path / "ws").resolve() / "src" / "providers" / "alpha"

    assert config.provider_dir("alpha") == package
    assert config.token_path("alpha") == package / "token.json"
    assert config.credentials_path("alpha") == package / "credentials.json"


def test_paths_of_an_unknown_provider_raise(tmp_path):
    config = load_config(write_config(tmp_path / "ws"))

    with pytest.raises(UnknownProvider):
        config.token_path("nope")


# ---- caching ------------------------------------------------------------------------------


def test_unchanged_file_is_served_from_the_cache(tmp_path):
    path = write_config(tmp_path / "ws")

    assert load_config(path) is load_config(path)


def test_cache_reloads_after_the_file_changes(tmp_path):
    path = write_config(tmp_path / "ws")
    first = load_config(path)
    assert first.provider("alpha").port == 8000

    # Same size on purpose: only the modification time tells the two apart.
    path.write_text(MINIMAL.replace("8000", "8001"), encoding="utf-8")
    stamp = path.stat().st_mtime_ns
    os.utime(path, ns=(stamp, stamp + 1_000_000_000))
    second = load_config(path)

    assert second is not first
    assert second.provider("alpha").port == 8001


def test_cache_reloads_when_the_size_changes(tmp_path):
    path = write_config(tmp_path / "ws")
    load_config(path)
    stamp = path.stat().st_mtime_ns

    path.write_text(MINIMAL + "  beta:\n    name: Beta\n", encoding="utf-8")
    os.utime(path, ns=(stamp, stamp))

    assert sorted(load_config(path).providers) == ["alpha", "beta"]


def test_a_file_broken_after_loading_is_reported_not_served_stale(tmp_path):
    path = write_config(tmp_path / "ws")
    load_config(path)

    path.write_text("providers:\n  alpha:\n    port: [8000\n", encoding="utf-8")

    with pytest.raises(ConfigError):
        load_config(path)


# ---- errors -------------------------------------------------------------------------------


def test_yaml_syntax_error_names_file_line_and_column(tmp_path):
    path = write_config(tmp_path / "ws", "# comment\nproviders:\n  alpha:\n    name: a: b\n")

    message = str(config_error(path))

    # Line 4, column 12: the second colon of `    name: a: b`.
    assert message.startswith(f"{path.resolve()}:4:12: ")
    assert "mapping values are not allowed" in message
    assert "Traceback" not in message


def test_tab_indentation_is_a_syntax_error_with_a_position(tmp_path):
    path = write_config(tmp_path / "ws", "providers:\n\talpha: {}\n")

    assert str(config_error(path)).startswith(f"{path.resolve()}:2:1: ")


@pytest.mark.parametrize(
    ("body", "line", "key"),
    [
        ("providers:\n  alpha:\n    name: A\n    port: abc\n", 4, "providers.alpha.port"),
        ("providers:\n  alpha:\n    scopes: 5\n", 3, "providers.alpha.scopes"),
        ("providers:\n  alpha:\n    port: 70000\n", 3, "providers.alpha.port"),
        ("providers:\n  alpha:\n    read_only: maybe\n", 3, "providers.alpha.read_only"),
        (
            "providers:\n  alpha:\n    scopes:\n      - a\n      - {x: 1}\n",
            5,
            "providers.alpha.scopes.1",
        ),
        (
            "providers:\n  alpha:\n    oauth:\n      pkce: true\n      tokn_url: x\n",
            5,
            "providers.alpha.oauth.tokn_url",
        ),
        ("# one\n# two\nproviders:\n  alpha: 3\n", 4, "providers.alpha"),
    ],
)
def test_invalid_value_names_file_line_and_dotted_key(tmp_path, body, line, key):
    path = write_config(tmp_path / "ws", body)

    error = config_error(path)

    assert str(error).startswith(f"{path.resolve()}:{line}: `{key}`: ")
    assert isinstance(error, UserError)


def test_providers_must_be_a_mapping(tmp_path):
    path = write_config(tmp_path / "ws", "# header\n\nproviders:\n  - alpha\n  - beta\n")

    message = str(config_error(path))

    assert message.startswith(f"{path.resolve()}:3:1: ")
    assert "`providers` must be a mapping" in message


def test_the_file_must_be_a_mapping(tmp_path):
    path = write_config(tmp_path / "ws", "- alpha\n- beta\n")

    assert "must be a mapping with a `providers:` key" in str(config_error(path))


@pytest.mark.parametrize("text", ["", "# only comments\n", "providers:\n", "providers: {}\n"])
def test_empty_files_and_empty_providers_mean_no_providers(tmp_path, text):
    assert dict(load_config(write_config(tmp_path / "ws", text)).providers) == {}


def test_unknown_provider_lists_the_configured_ones(tmp_path):
    path = write_config(tmp_path / "ws", "providers:\n  zeta: {name: Z}\n  alpha: {name: A}\n")
    config = load_config(path)

    with pytest.raises(UnknownProvider) as caught:
        config.provider("slack")
    message = str(caught.value)

    assert "'slack'" in message
    assert "configured: alpha, zeta" in message
    assert "multichat new provider slack" in message
    assert isinstance(caught.value, KeyError)
    assert isinstance(caught.value, UserError)


def test_unknown_provider_with_none_configured_says_so(tmp_path):
    config = load_config(write_config(tmp_path / "ws", "providers:\n"))

    with pytest.raises(UnknownProvider, match="none yet"):
        config.provider("slack")


def test_python_tags_are_not_executed(tmp_path):
    marker = tmp_path / "executed"
    path = write_config(
        tmp_path / "ws",
        "providers:\n"
        "  alpha:\n"
        "    name: A\n"
        f"    hook: !!python/object/apply:os.system ['touch {marker}']\n"
        f"  beta: !!python/object/apply:os.system ['touch {marker}']\n",
    )

    with pytest.raises(ConfigError):
        load_config(path)
    assert not marker.exists()


def test_python_tag_on_an_extra_key_loads_as_plain_data(tmp_path):
    marker = tmp_path / "executed"
    path = write_config(
        tmp_path / "ws",
        f"providers:\n  alpha:\n    hook: !!python/object/apply:os.system ['touch {marker}']\n",
    )
    use_config(path)

    assert get_provider_config_value("alpha", "hook") == [f"touch {marker}"]
    assert not marker.exists()


# ---- the guide's accessor -----------------------------------------------------------------


def test_get_provider_config_value_returns_raw_values_and_defaults(tmp_path):
    path = write_config(
        tmp_path / "ws",
        "providers:\n"
        "  alpha:\n"
        "    name: 'Alpha Chat'\n"
        "    port: 8000\n"
        "    token_path: src/providers/alpha/token.json\n"
        "    scopes:\n"
        "      - chat:read\n"
        "      - chat:write\n"
        "    team_id: T123\n"
        "    oauth:\n"
        "      pkce: false\n",
    )
    use_config(path)

    assert get_provider_config_value("alpha", "name") == "Alpha Chat"
    assert get_provider_config_value("alpha", "port") == 8000
    assert type(get_provider_config_value("alpha", "port")) is int
    # Raw: the configured string, not the resolved path.
    assert get_provider_config_value("alpha", "token_path") == "src/providers/alpha/token.json"
    assert get_provider_config_value("alpha", "scopes") == ["chat:read", "chat:write"]
    assert type(get_provider_config_value("alpha", "scopes")) is list
    assert get_provider_config_value("alpha", "team_id") == "T123"
    assert get_provider_config_value("alpha", "oauth") == {"pkce": False}
    assert get_provider_config_value("alpha", "description") is None
    assert get_provider_config_value("alpha", "description", "fallback") == "fallback"


def test_get_provider_config_value_of_an_unknown_provider_raises(tmp_path):
    use_config(write_config(tmp_path / "ws"))

    with pytest.raises(UnknownProvider, match="configured: alpha"):
        get_provider_config_value("beta", "name", "default is not a way out")


def test_get_provider_config_value_sees_edits(tmp_path):
    path = write_config(tmp_path / "ws")
    use_config(path)
    assert get_provider_config_value("alpha", "name") == "Alpha"

    path.write_text(MINIMAL.replace("Alpha", "Omega"), encoding="utf-8")
    stamp = path.stat().st_mtime_ns
    os.utime(path, ns=(stamp, stamp + 1_000_000_000))

    assert get_provider_config_value("alpha", "name") == "Omega"


def test_extras_are_parsed_into_the_model(tmp_path):
    path = write_config(
        tmp_path / "ws",
        "providers:\n"
        "  alpha:\n"
        "    scopes:\n"
        "    read_only: true\n"
        "    enabled_tools: [provider_info]\n"
        "    api_base_url: https://chat.example/api\n"
        "    oauth:\n"
        "      authorize_url: https://chat.example/authorize\n"
        "      scope_separator: ','\n",
    )
    alpha = load_config(path).provider("alpha")

    assert alpha.scopes == []
    assert alpha.read_only is True
    assert alpha.enabled_tools == ["provider_info"]
    assert alpha.api_base_url == "https://chat.example/api"
    assert alpha.oauth is not None
    assert alpha.oauth.authorize_url == "https://chat.example/authorize"
    assert alpha.oauth.scope_separator == ","
    assert alpha.oauth.pkce is True
