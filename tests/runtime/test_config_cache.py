"""A configuration read before is not read by the YAML reader again, and means the same."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from multichat.errors import ConfigError
from multichat.runtime.config import parse_config

TEXT = """\
# a comment the plain data does not keep
server:
  auth: {}
providers:
  alpha:
    name: "Alpha"
    port: 8000
    scopes: ["chat:read"]
    readonly: true        # misspelled: a warning with its line
    team_id: T1           # the provider's own setting
  beta:
    name: Beta
    read_only: true
    enabled_tools: [whoami]
"""


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("MULTICHAT_CACHE_DIR", str(folder))
    return folder / "configs"


def stored(cache: Path) -> Path:
    (file,) = cache.glob("*.json")
    return file


def test_a_remembered_text_gives_the_same_configuration(cache: Path, tmp_path: Path) -> None:
    path = tmp_path / "provider-config.yaml"
    first = parse_config(TEXT, path)
    assert stored(cache).stat().st_mode & 0o777 == 0o600

    again = parse_config(TEXT, path)

    assert again == first
    assert [str(key) for key in again.unknown_keys] == [str(key) for key in first.unknown_keys]
    assert any(":9:" in warning and "read_only" in warning for warning in again.warnings)


def test_the_remembered_data_is_what_a_second_read_uses(cache: Path, tmp_path: Path) -> None:
    path = tmp_path / "provider-config.yaml"
    parse_config(TEXT, path)
    file = stored(cache)
    kept = json.loads(file.read_text())
    kept["document"]["providers"]["beta"]["name"] = "Remembered"
    file.write_text(json.dumps(kept))

    assert parse_config(TEXT, path).providers["beta"].name == "Remembered"
    changed = TEXT.replace("name: Beta", "name: Changed")
    assert parse_config(changed, path).providers["beta"].name == "Changed"


def test_a_remembered_text_that_no_longer_validates_is_read_for_its_line(
    cache: Path, tmp_path: Path
) -> None:
    path = tmp_path / "provider-config.yaml"
    parse_config(TEXT, path)
    file = stored(cache)
    kept = json.loads(file.read_text())
    kept["document"]["providers"]["beta"]["read_only"] = "sometimes"
    file.write_text(json.dumps(kept))

    # The cache says something invalid; the file itself is fine, so the full read wins.
    assert parse_config(TEXT, path).providers["beta"].read_only is True


def test_a_text_with_an_error_is_not_remembered(cache: Path, tmp_path: Path) -> None:
    path = tmp_path / "provider-config.yaml"
    broken = TEXT.replace("port: 8000", "port: eighty")
    for _ in range(2):
        with pytest.raises(ConfigError, match=r"provider-config.yaml:7: `providers.alpha.port`"):
            parse_config(broken, path)
    assert not cache.exists()


def test_an_empty_cache_setting_turns_it_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MULTICHAT_CACHE_DIR", "")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    parse_config(TEXT, tmp_path / "provider-config.yaml")
    assert not (tmp_path / "xdg").exists()
