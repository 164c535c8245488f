"""`multichat init DIR` through the installed console script."""

import shutil
import subprocess
import tomllib

import pytest
from e2e_support import assert_user_error
from helpers import run_cli, tree_snapshot
from packaging.requirements import Requirement

pytestmark = pytest.mark.e2e

SECRETS = (
    "token.json",
    "credentials.json",
    "src/providers/alpha/token.json",
    "src/providers/alpha/credentials.json",
    ".multichat/http-token",
    # What `run --multi-user` makes: the OAuth proxy's key and store, each person's files.
    ".multichat/oauth-proxy/key",
    ".multichat/oauth-proxy/store/S_mcp_upstream_tokens-1/a.json",
    ".multichat/users/0f1e/chat/token.json",
    ".multichat/users/0f1e/chat/state/watermarks.json",
)


def _git_ignores(workspace, path):
    result = subprocess.run(
        ["git", "check-ignore", "--quiet", "--no-index", path],
        cwd=workspace,
        capture_output=True,
        timeout=30,
        check=False,
    )
    assert result.returncode in (0, 1), result.stderr
    return result.returncode == 0


def test_init_creates_a_workspace(tmp_path):
    result = run_cli("init", "my-chats", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert "multichat new provider" in result.stdout
    ws = tmp_path / "my-chats"
    for relative in (
        "provider-config.yaml",
        "src/__init__.py",
        "src/providers/__init__.py",
        "src/mcp_core/__init__.py",
        "src/mcp_core/engine/__init__.py",
        "src/mcp_core/engine/provider_loader.py",
        "src/mcp_core/tools/__init__.py",
        "src/mcp_core/tools/tool_decorator.py",
        "src/server.py",
        "tests/conftest.py",
        "pyproject.toml",
        ".gitignore",
        "README.md",
    ):
        assert (ws / relative).is_file(), relative
    assert (ws / "src" / "providers").is_dir()
    assert (ws / "tests").is_dir()
    assert (
        "get_provider_config_value" in (ws / "src/mcp_core/engine/provider_loader.py").read_text()
    )
    assert "tool_decorator_factory" in (ws / "src/mcp_core/tools/tool_decorator.py").read_text()
    assert "providers:" in (ws / "provider-config.yaml").read_text()
    pyproject = (ws / "pyproject.toml").read_text()
    assert 'name = "my-chats"' in pyproject
    assert "multichat" in pyproject
    assert "my-chats" in (ws / "README.md").read_text()


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git to read .gitignore")
def test_init_gitignore_covers_tokens_and_credentials(tmp_path):
    assert run_cli("init", "ws", cwd=tmp_path).returncode == 0
    ws = tmp_path / "ws"
    subprocess.run(["git", "init", "--quiet"], cwd=ws, check=True, timeout=30)

    for secret in SECRETS:
        assert _git_ignores(ws, secret), secret
    assert not _git_ignores(ws, "provider-config.yaml")
    assert not _git_ignores(ws, "src/providers/alpha/mcp_instance.py")


def test_init_refuses_a_non_empty_folder(tmp_path):
    target = tmp_path / "busy"
    target.mkdir()
    (target / "notes.txt").write_text("mine\n")
    (target / "sub").mkdir()
    before = tree_snapshot(target)

    result = run_cli("init", "busy", cwd=tmp_path)

    line = assert_user_error(result, 2)
    assert "not empty" in line
    assert str(target) in line
    assert tree_snapshot(target) == before


def test_init_into_an_empty_folder_is_fine(tmp_path):
    (tmp_path / "empty").mkdir()

    result = run_cli("init", "empty", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert (tmp_path / "empty" / "provider-config.yaml").is_file()


def test_init_onto_a_file_is_one_line(tmp_path):
    (tmp_path / "taken").write_text("a file\n")

    line = assert_user_error(run_cli("init", "taken", cwd=tmp_path), 2)

    assert "taken" in line
    assert (tmp_path / "taken").read_text() == "a file\n"


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("init",), id="missing-dir"),
        pytest.param(("init", "ws", "--bogus"), id="unknown-option"),
        pytest.param(("frobnicate",), id="unknown-command"),
    ],
)
def test_usage_errors_exit_2_without_traceback(tmp_path, args):
    result = run_cli(*args, cwd=tmp_path)

    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("multichat: error: "), result.stderr
    assert list(tmp_path.iterdir()) == []


def test_init_bad_project_name_is_one_line(tmp_path):
    result = run_cli("init", "ws", "--name", "bad name!", cwd=tmp_path)

    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "ws").exists()


def test_every_tool_the_workspace_configures_is_a_dev_dependency(cli_workspace):
    # A [tool.ruff] section without ruff installed made `uv run ruff check` fail to spawn.
    project = tomllib.loads((cli_workspace / "pyproject.toml").read_text())
    configured = set(project["tool"]) - {"uv"}
    installed = {Requirement(spec).name for spec in project["dependency-groups"]["dev"]}
    assert {"ruff", "pytest"} <= configured
    assert sorted(configured - installed) == []
