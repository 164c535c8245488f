"""Each client's file, on temporary Linux and macOS homes: created, edited, replaced, removed.

Every test goes through the public surface (``server_entry``, ``plan_install``, ``apply``) and
checks the result against the documented location and format in ``clients_support``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from clients_support import (
    FILE_CLIENTS,
    PLATFORMS,
    SAMPLES,
    SERVERS_KEY,
    Folders,
    broken_sample,
    documented_path,
    load,
    prepare_client_folder,
)

from multichat.clients import ClientChange, apply, plan_install, server_entry
from multichat.clients.errors import EntryNotFound, InvalidClientFile


def plan(
    folders: Folders,
    client: str,
    platform: str = "linux",
    *,
    providers: tuple[str, ...] | list[str] = (),
    remove: bool = False,
) -> ClientChange:
    entry = server_entry(folders.workspace, providers=providers)
    return plan_install(
        client, entry, home=folders.home, cwd=folders.cwd, platform=platform, remove=remove
    )


def expected_command(folders: Folders, *providers: str) -> list[str]:
    args = ["run", "--directory", str(folders.workspace.resolve()), "multichat", "run"]
    for provider in providers:
        args += ["--provider", provider]
    return args


def stored_entry(path: Path, client: str) -> dict[str, object]:
    data = load(path, client)
    entry = data[SERVERS_KEY[client]]["chat-ws"]
    assert isinstance(entry, dict)
    return entry


def assert_runs_workspace(entry: dict[str, object], client: str, args: list[str]) -> None:
    command_key = "cmd" if client == "goose" else "command"
    assert entry[command_key] == "uv"
    assert entry["args"] == args


@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize("client", FILE_CLIENTS)
def test_a_new_file_holds_just_the_entry_at_the_documented_place(
    folders: Folders, client: str, platform: str
) -> None:
    path = prepare_client_folder(folders, client, platform)

    change = plan(folders, client, platform, providers=["slack"])
    assert change.path == path
    assert change.old_text is None
    assert change.diff.startswith(f"--- /dev/null\n+++ {path}\n")
    apply(change)

    data = load(path, client)
    assert list(data) == [SERVERS_KEY[client]]
    assert list(data[SERVERS_KEY[client]]) == ["chat-ws"]
    assert_runs_workspace(stored_entry(path, client), client, expected_command(folders, "slack"))
    assert path.stat().st_mode & 0o777 == 0o644


@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize("client", FILE_CLIENTS)
def test_an_existing_file_keeps_every_other_byte(
    folders: Folders, client: str, platform: str
) -> None:
    path = prepare_client_folder(folders, client, platform)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(SAMPLES[client].encode("utf-8"))
    before = load(path, client)

    apply(plan(folders, client, platform))
    after = load(path, client)
    added = after[SERVERS_KEY[client]].pop("chat-ws")
    assert after == before
    assert_runs_workspace(added, client, expected_command(folders))

    # taking the entry out again gives back the very bytes the user had
    apply(plan(folders, client, platform, remove=True))
    assert path.read_bytes() == SAMPLES[client].encode("utf-8")


@pytest.mark.parametrize("client", FILE_CLIENTS)
def test_a_second_install_replaces_the_entry_in_place(folders: Folders, client: str) -> None:
    path = prepare_client_folder(folders, client, "linux")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(SAMPLES[client].encode("utf-8"))
    apply(plan(folders, client, providers=["slack"]))

    change = plan(folders, client, providers=["discord", "slack"])
    assert change.description.startswith("replace the `chat-ws` server")
    apply(change)

    servers = load(path, client)[SERVERS_KEY[client]]
    assert list(servers).count("chat-ws") == 1
    args = expected_command(folders, "discord", "slack")
    assert_runs_workspace(stored_entry(path, client), client, args)
    apply(plan(folders, client, remove=True))
    assert path.read_bytes() == SAMPLES[client].encode("utf-8")


@pytest.mark.parametrize("client", FILE_CLIENTS)
def test_installing_the_same_entry_again_changes_nothing(folders: Folders, client: str) -> None:
    prepare_client_folder(folders, client, "linux")
    apply(plan(folders, client))

    again = plan(folders, client)
    assert not again.changed
    assert again.diff == ""
    assert "nothing to change" in again.description


@pytest.mark.parametrize("client", FILE_CLIENTS)
def test_removing_an_entry_that_is_not_there_says_so(folders: Folders, client: str) -> None:
    path = prepare_client_folder(folders, client, "linux")
    with pytest.raises(EntryNotFound, match=r"does not exist: there is no `chat-ws` server"):
        plan(folders, client, remove=True)

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(SAMPLES[client].encode("utf-8"))
    with pytest.raises(EntryNotFound) as caught:
        plan(folders, client, remove=True)
    assert str(caught.value) == f"{path} has no `chat-ws` server to remove"


@pytest.mark.parametrize("remove", [False, True])
@pytest.mark.parametrize("client", FILE_CLIENTS)
def test_an_invalid_file_is_refused_and_left_untouched(
    folders: Folders, client: str, remove: bool
) -> None:
    path = prepare_client_folder(folders, client, "linux")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(broken_sample(client), encoding="utf-8")
    stamp = path.stat().st_mtime_ns

    with pytest.raises(InvalidClientFile) as caught:
        plan(folders, client, remove=remove)

    message = str(caught.value)
    assert message.startswith(f"{path}:4:")
    assert "\n" not in message
    assert path.read_text(encoding="utf-8") == broken_sample(client)
    assert path.stat().st_mtime_ns == stamp


@pytest.mark.parametrize("client", FILE_CLIENTS)
def test_a_dry_run_writes_nothing(folders: Folders, client: str) -> None:
    path = prepare_client_folder(folders, client, "linux")
    listing_before = sorted(folders.home.rglob("*")) + sorted(folders.cwd.rglob("*"))

    change = plan(folders, client, providers=["slack"])  # what --dry-run shows, not applied

    assert change.changed
    assert "+++ " + str(path) in change.diff
    assert not path.exists()
    assert sorted(folders.home.rglob("*")) + sorted(folders.cwd.rglob("*")) == listing_before


@pytest.mark.parametrize("client", FILE_CLIENTS)
def test_apply_keeps_the_mode_of_an_existing_file(folders: Folders, client: str) -> None:
    path = prepare_client_folder(folders, client, "linux")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(SAMPLES[client].encode("utf-8"))
    os.chmod(path, 0o640)

    apply(plan(folders, client))

    assert path.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_documented_paths_cover_every_client() -> None:
    from multichat.clients import CLIENT_NAMES

    assert sorted({*FILE_CLIENTS, "mcp-json"}) == sorted(CLIENT_NAMES)


def test_documented_path_helper_matches_home_and_project(folders: Folders) -> None:
    assert documented_path(folders, "goose", "darwin").is_relative_to(folders.home)
    assert documented_path(folders, "vscode", "darwin").is_relative_to(folders.cwd)
