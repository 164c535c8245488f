"""`multichat new provider NAME` through the installed console script."""

import re

import pytest
from e2e_support import assert_user_error
from helpers import run_cli, tree_snapshot
from ruamel.yaml import YAML

pytestmark = pytest.mark.e2e

HEADER = "# Our team's chat servers (edited by hand: keep this line)\n"
BEFORE_PROVIDERS = (
    "team: 'Platform \"Chat\" Team'  # an extra top-level key, single-quoted\n"
    'owner: "Ada Lovelace"\n'
    "\n"
)
PROVIDERS_LINE = "providers:   # every provider goes below\n"
AFTER_PROVIDERS = (
    "\n"
    "# Settings that are not providers (this comment belongs to `extras`).\n"
    "extras:\n"
    "  region: 'eu-west-1'\n"
    '  quoted: "a: b # not a comment"\n'
    "  list: ['x', \"y\"]  # flow list\n"
)


def _is_subsequence(lines, text):
    remaining = iter(text.splitlines())
    return all(any(candidate == line for candidate in remaining) for line in lines)


def _load(path):
    return YAML(typ="safe").load(path.read_text(encoding="utf-8"))


@pytest.fixture
def edited_workspace(tmp_path):
    """A workspace made by `multichat init` whose provider-config.yaml the user edited."""
    assert run_cli("init", "ws", cwd=tmp_path).returncode == 0
    ws = tmp_path / "ws"
    config = ws / "provider-config.yaml"
    original = config.read_text(encoding="utf-8")
    assert "\nproviders:\n" in original
    head, _, tail = original.partition("\nproviders:\n")
    edited = HEADER + head + "\n" + BEFORE_PROVIDERS + PROVIDERS_LINE + tail + AFTER_PROVIDERS
    config.write_text(edited, encoding="utf-8")
    return ws


def test_new_providers_keep_every_line_the_user_wrote(edited_workspace):
    ws = edited_workspace
    config = ws / "provider-config.yaml"
    edited = config.read_text(encoding="utf-8")

    for name in ("alpha", "beta"):
        result = run_cli("new", "provider", name, cwd=ws)
        assert result.returncode == 0, result.stderr
        assert f"Created provider {name}" in result.stdout
        assert (ws / "src" / "providers" / name / "mcp_instance.py").is_file()
        assert (ws / "tests" / "providers" / name).is_dir()

    updated = config.read_text(encoding="utf-8")
    assert _is_subsequence(edited.splitlines(), updated), updated
    data = _load(config)
    assert data["team"] == 'Platform "Chat" Team'
    assert data["owner"] == "Ada Lovelace"
    assert data["extras"] == {
        "region": "eu-west-1",
        "quoted": "a: b # not a comment",
        "list": ["x", "y"],
    }
    assert list(data["providers"]) == ["alpha", "beta"]
    alpha, beta = data["providers"]["alpha"], data["providers"]["beta"]
    assert alpha["port"] != beta["port"]
    assert str(alpha["port"]) in alpha["callback_url"]
    assert str(beta["port"]) in beta["callback_url"]
    assert alpha["name"] == "Alpha"
    # the entries went under `providers:`, before the user's trailing top-level key
    assert updated.index("  beta:") < updated.index("\nextras:")


@pytest.mark.parametrize("name", ["Alpha", "1x", "my-prov", "class", "mcp_core"])
def test_bad_names_change_nothing(copy_workspace, name):
    ws = copy_workspace()
    before = tree_snapshot(ws)

    line = assert_user_error(run_cli("new", "provider", name, cwd=ws), 2)

    assert repr(name) in line
    assert "lowercase" in line
    assert "identifier" in line
    assert tree_snapshot(ws) == before


def test_an_existing_name_changes_nothing(copy_workspace):
    ws = copy_workspace()
    before = tree_snapshot(ws)

    line = assert_user_error(run_cli("new", "provider", "alpha", cwd=ws), 2)

    assert "'alpha'" in line
    assert "exists already" in line
    assert tree_snapshot(ws) == before


def test_an_existing_folder_without_entry_changes_nothing(copy_workspace):
    ws = copy_workspace()
    (ws / "src" / "providers" / "gamma").mkdir()
    (ws / "src" / "providers" / "gamma" / "mine.py").write_text("x = 1\n")
    before = tree_snapshot(ws)

    line = assert_user_error(run_cli("new", "provider", "gamma", cwd=ws), 2)

    assert "gamma" in line
    assert tree_snapshot(ws) == before


def test_broken_yaml_names_file_and_line(copy_workspace):
    ws = copy_workspace()
    config = ws / "provider-config.yaml"
    config.write_text("providers:\n  alpha:\n    name: Alpha\n  beta: : x\n", encoding="utf-8")
    before = tree_snapshot(ws)

    # a broken workspace file is a failure (exit 1), not bad usage
    line = assert_user_error(run_cli("new", "provider", "gamma", cwd=ws), 2)

    assert re.search(r"provider-config\.yaml:4:\d+", line), line
    assert tree_snapshot(ws) == before


def test_outside_a_workspace_says_init_or_config(tmp_path):
    outside = tmp_path / "nowhere"
    outside.mkdir()

    line = assert_user_error(run_cli("new", "provider", "alpha", cwd=outside), 2)

    assert "multichat init" in line
    assert "--config" in line
    assert list(outside.iterdir()) == []


def test_config_option_works_from_outside(copy_workspace, tmp_path):
    ws = copy_workspace()
    outside = tmp_path / "elsewhere"
    outside.mkdir()

    result = run_cli(
        "new", "provider", "gamma", "--config", str(ws / "provider-config.yaml"), cwd=outside
    )

    assert result.returncode == 0, result.stderr
    assert (ws / "src" / "providers" / "gamma" / "mcp_instance.py").is_file()
    ports = {entry["port"] for entry in _load(ws / "provider-config.yaml")["providers"].values()}
    assert len(ports) == 3
    assert list(outside.iterdir()) == []
