"""server_entry: the command every client runs, and the names it accepts."""

from __future__ import annotations

from pathlib import Path

import pytest

from multichat.clients import EnvVar, server_entry
from multichat.clients.entry import default_server_name
from multichat.clients.errors import InvalidServerEntry


def test_the_entry_runs_the_workspace_with_uv_and_chosen_providers(tmp_path: Path) -> None:
    workspace = tmp_path / "chat"
    entry = server_entry(workspace / ".." / "chat", providers=["slack", "discord", "slack"])
    assert entry.name == "chat"
    assert entry.command == "uv"
    assert entry.args == (
        "run",
        "--directory",
        str(workspace),
        "multichat",
        "run",
        "--provider",
        "slack",
        "--provider",
        "discord",
    )
    assert entry.env == ()


def test_env_items_name_a_variable_or_carry_a_value(tmp_path: Path) -> None:
    entry = server_entry(tmp_path, env=["MULTICHAT_SLACK_TOKEN", "DEBUG=a=b", "EMPTY="])
    assert entry.env == (
        EnvVar("MULTICHAT_SLACK_TOKEN"),
        EnvVar("DEBUG", "a=b"),
        EnvVar("EMPTY", ""),
    )
    assert [variable.is_secret_in_file for variable in entry.env] == [False, True, True]


@pytest.mark.parametrize(
    ("folder", "name"),
    [
        ("my-chat", "my-chat"),
        ("My Chat Tools", "My-Chat-Tools"),
        ("2024_chat.v2", "chat-v2"),
        ("…", "multichat"),
    ],
)
def test_the_default_name_is_the_folder_name_made_safe(folder: str, name: str) -> None:
    assert default_server_name(Path("/x") / folder) == name


@pytest.mark.parametrize("name", ["", "1chat", "chat tools", "chat.v2", "a" * 65, "ünï"])
def test_a_server_name_clients_refuse_is_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(InvalidServerEntry, match=r"invalid server name"):
        server_entry(tmp_path, name=name)


def test_an_explicit_name_wins(tmp_path: Path) -> None:
    assert server_entry(tmp_path, name="Chat_2").name == "Chat_2"


@pytest.mark.parametrize("provider", ["Slack", "my-chat", "class", "src"])
def test_provider_names_follow_the_provider_rule(tmp_path: Path, provider: str) -> None:
    with pytest.raises(InvalidServerEntry, match=r"invalid provider name"):
        server_entry(tmp_path, providers=[provider])


@pytest.mark.parametrize("item", ["", "=x", "1ABC", "A-B=1", "A B"])
def test_a_bad_env_item_is_refused(tmp_path: Path, item: str) -> None:
    with pytest.raises(InvalidServerEntry, match=r"invalid --env"):
        server_entry(tmp_path, env=[item])


def test_a_variable_given_twice_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidServerEntry, match=r"--env A is given twice"):
        server_entry(tmp_path, env=["A", "A=1"])


def test_a_bad_env_value_is_never_echoed(tmp_path: Path) -> None:
    with pytest.raises(InvalidServerEntry) as caught:
        server_entry(tmp_path, env=["BAD NAME=secret-value"])
    assert "secret-value" not in str(caught.value)


def test_the_public_surface_is_pinned() -> None:
    import multichat.clients

    assert sorted(multichat.clients.__all__) == [
        "CLIENT_NAMES",
        "ClientChange",
        "EnvVar",
        "ServerEntry",
        "apply",
        "plan_install",
        "server_entry",
    ]


def test_an_installed_multichat_is_started_by_path_with_the_config(tmp_path: Path) -> None:
    entry = server_entry(tmp_path, providers=["slack"], multichat=["/opt/bin/multichat"])
    assert entry.command == "/opt/bin/multichat"
    config = str(tmp_path.resolve() / "provider-config.yaml")
    assert entry.args == ("run", "--config", config, "--provider", "slack")


def test_python_m_and_a_relative_folder_carry_over(tmp_path: Path) -> None:
    entry = server_entry(tmp_path, directory=".", multichat=["/usr/bin/python3", "-m", "multichat"])
    assert entry.command == "/usr/bin/python3"
    assert entry.args == ("-m", "multichat", "run", "--config", "./provider-config.yaml")
