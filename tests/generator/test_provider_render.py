"""``new provider`` end to end in-process: files, config entry, ports, refusals, and the output
passing ruff, mypy --strict and its own tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import file_tree, run_module
from ruamel.yaml import YAML

from multichat.contract import GUIDE_KEYS
from multichat.errors import (
    ConfigError,
    InvalidProviderName,
    ProviderExists,
    UserError,
)
from multichat.generator.provider import add_provider as generate
from multichat.runtime.config import load_config


def entry(workspace: Path, name: str) -> dict:
    document = YAML(typ="safe").load((workspace / "provider-config.yaml").read_text())
    return document["providers"][name]


# ---- what is written ----------------------------------------------------------------------


def test_the_contract_trio_tests_and_answers_file_are_written(workspace):
    before = set(file_tree(workspace))

    result = generate("alpha", config_path=workspace / "provider-config.yaml")

    package = workspace / "src" / "providers" / "alpha"
    for relative in ("mcp_instance.py", "server_auth.py", "api/auth.py"):
        assert (package / relative).is_file(), relative
    for relative in ("__init__.py", "api/__init__.py", "tools/__init__.py"):
        assert (package / relative).is_file(), relative
    assert (workspace / "tests" / "providers" / "alpha" / "test_alpha_provider.py").is_file()
    answers_file = workspace / ".multichat" / "providers" / "alpha.yml"
    answers = YAML(typ="safe").load(answers_file.read_text())
    assert answers["provider_name"] == "alpha"
    assert answers["kind"] == "provider"
    assert answers["preset"] == "blank"

    new_files = set(file_tree(workspace)) - before
    baseline = {f for f in new_files if f.startswith(".multichat/baseline/alpha/")}
    written = sorted(str(path.relative_to(workspace)) for path in result.files)
    assert written == sorted(new_files - baseline)
    # The baseline holds every generated file as generated, except the answers file.
    assert sorted(f.removeprefix(".multichat/baseline/alpha/") for f in baseline) == sorted(
        f for f in written if f != ".multichat/providers/alpha.yml"
    )
    assert "alpha.provider-config.yaml" not in new_files
    assert not any(name.endswith(".provider-config.yaml") for name in file_tree(workspace))
    assert result.config_path == (workspace / "provider-config.yaml").resolve()
    for path in new_files:
        if path.endswith(".py"):
            compile((workspace / path).read_text(), path, "exec")


def test_the_config_entry_has_every_guide_key(workspace, add_provider):
    add_provider("alpha")

    alpha = entry(workspace, "alpha")

    assert set(GUIDE_KEYS) <= set(alpha)
    assert alpha["name"] == "Alpha"
    assert alpha["description"] == "Chat tools for Alpha"
    assert alpha["token_path"] == "src/providers/alpha/token.json"
    assert alpha["credentials_path"] == "src/providers/alpha/credentials.json"
    assert alpha["callback_url"] == "http://127.0.0.1:8000/auth/callback"
    assert alpha["port"] == 8000
    assert alpha["scopes"] == []
    assert alpha["read_only"] is False
    config = load_config(workspace / "provider-config.yaml")
    assert config.token_path("alpha") == config.provider_dir("alpha") / "token.json"


def test_answers_flow_into_the_entry_and_survive_quoting(workspace, add_provider):
    display = "Ops <Team> & 'Co': \"quoted\" # not a comment"
    add_provider(
        "alpha",
        display_name=display,
        description="Line: with colon",
        scopes=["chat:read", "https://scopes.example/auth/chat.messages"],
    )

    alpha = entry(workspace, "alpha")

    assert alpha["name"] == display
    assert alpha["description"] == "Line: with colon"
    assert alpha["scopes"] == ["chat:read", "https://scopes.example/auth/chat.messages"]
    assert load_config(workspace / "provider-config.yaml").provider("alpha").name == display


def test_ports_count_up_from_8000_and_fill_gaps(workspace, add_provider):
    add_provider("alpha")
    add_provider("beta")
    add_provider("delta", port=8003)
    add_provider("gamma")

    ports = {name: entry(workspace, name)["port"] for name in ("alpha", "beta", "gamma", "delta")}

    assert ports == {"alpha": 8000, "beta": 8001, "gamma": 8002, "delta": 8003}
    assert entry(workspace, "beta")["callback_url"] == "http://127.0.0.1:8001/auth/callback"
    assert len(set(ports.values())) == len(ports)


def test_a_port_clash_is_a_user_error_and_writes_nothing(workspace, add_provider):
    add_provider("alpha")
    before = file_tree(workspace)

    with pytest.raises(UserError, match="port 8000 is used by alpha"):
        add_provider("beta", port=8000)
    with pytest.raises(UserError, match="port must be a number"):
        add_provider("beta", port="eighty")

    assert file_tree(workspace) == before


def test_an_existing_name_raises_and_leaves_the_config_bytes_identical(workspace, add_provider):
    add_provider("alpha")
    config = workspace / "provider-config.yaml"
    with config.open("a") as handle:
        handle.write("  # user comment after alpha\n")
    before = file_tree(workspace)

    with pytest.raises(ProviderExists, match="alpha"):
        add_provider("alpha")

    assert config.read_bytes() == before["provider-config.yaml"]
    assert file_tree(workspace) == before


def test_a_leftover_folder_without_an_entry_raises(workspace, add_provider):
    (workspace / "tests" / "providers" / "alpha").mkdir(parents=True)
    before = file_tree(workspace)

    with pytest.raises(ProviderExists, match="exists already"):
        add_provider("alpha")

    assert file_tree(workspace) == before


@pytest.mark.parametrize(
    "broken",
    [
        "providers:\n  alpha: {\n",
        "providers:\n  - alpha\n",
        "providers:\n  alpha:\n    port: abc\n",
    ],
)
def test_a_broken_config_leaves_everything_identical(workspace, add_provider, broken):
    (workspace / "provider-config.yaml").write_text(broken)
    before = file_tree(workspace)

    with pytest.raises(ConfigError):
        add_provider("beta")

    assert file_tree(workspace) == before


@pytest.mark.parametrize("name", ["Bad", "mcp_core", "class", "with-dash"])
def test_an_invalid_name_writes_nothing(workspace, add_provider, name):
    before = file_tree(workspace)

    with pytest.raises(InvalidProviderName):
        add_provider(name)

    assert file_tree(workspace) == before


def test_an_unknown_preset_is_a_user_error(workspace):
    before = file_tree(workspace)

    with pytest.raises(UserError, match="unknown preset"):
        generate("alpha", config_path=workspace / "provider-config.yaml", preset="nope")

    assert file_tree(workspace) == before


# ---- the generated code passes the tools ---------------------------------------------------


@pytest.fixture
def generated(workspace: Path, add_provider) -> Path:
    add_provider("alpha")
    add_provider("beta", scopes=["chat:read"])
    return workspace


def test_generated_python_passes_ruff(generated):
    # The whole workspace: both providers, their tests, and the workspace's own files.
    result = run_module("ruff", "check", "--no-cache", ".", cwd=generated)

    assert result.returncode == 0, result.stdout + result.stderr


def test_generated_provider_passes_mypy_strict(generated, pytestconfig):
    cache = pytestconfig.cache.mkdir("mypy-generated-provider") if pytestconfig.cache else None
    args = ["mypy", "--strict", "--no-error-summary", "src/providers/alpha"]
    if cache is not None:
        args[1:1] = ["--cache-dir", str(cache)]

    result = run_module(*args, cwd=generated)

    assert result.returncode == 0, result.stdout + result.stderr


def test_the_generated_workspace_tests_pass(generated):
    result = run_module("pytest", "-v", "-p", "no:cacheprovider", cwd=generated)
    output = result.stdout + result.stderr

    assert result.returncode == 0, output
    assert "FAILED" not in output
    assert "ERROR" not in output
    for provider in ("alpha", "beta"):
        test_file = f"tests/providers/{provider}/test_{provider}_provider.py"
        assert f"{test_file}::test_whoami_before_sign_in_names_the_fix PASSED" in output
    assert "tests/test_workspace.py::test_every_provider_loads PASSED" in output
