"""From a built wheel, as a user who never cloned multichat (issue 14).

The wheel is served from a package index on 127.0.0.1 (standing in for PyPI, where
``multichat-mcp`` will live) and installed with ``uv tool install`` into a fresh HOME. That
multichat makes a workspace, adds a provider and an MCP client entry, and the workspace is
committed and cloned elsewhere, as a teammate would: the clone serves with ``uv run multichat
run``, and no committed file names a folder of the first machine. The README's first command,
``multichat demo``, runs from the installed tool too. A tool install never sends its user to
``uv run`` (which would fetch a second multichat from the index): hints say ``multichat``,
client entries start this one by its path, and the wheel's texts link to pages that exist.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading
import zipfile
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from e2e_support import DEADLINE
from fastmcp import Client
from fastmcp.client.transports import StdioTransport
from helpers import clean_env

from multichat import __version__
from multichat.docs_pages import docs_page

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("uv") is None, reason="needs uv"),
]

REPO = Path(__file__).resolve().parents[2]


def run(args: list[str], cwd: Path, env: dict[str, str], timeout: float = 5 * DEADLINE) -> str:
    result = subprocess.run(
        args,
        cwd=cwd,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=timeout,
        env=env,
        check=False,
    )
    assert result.returncode == 0, (args, result.stdout, result.stderr)
    return result.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    env = clean_env()
    env.pop("VIRTUAL_ENV", None)
    run(["uv", "build", "--wheel", "--out-dir", str(dist)], cwd=REPO, env=env)
    (built,) = dist.glob("multichat_mcp-*.whl")
    return built


@pytest.fixture(scope="module")
def index(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A PEP 503 simple index on 127.0.0.1 that holds the wheel."""
    root = tmp_path_factory.mktemp("index")
    files = root / "files"
    files.mkdir()
    shutil.copy2(wheel, files / wheel.name)
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    page = root / "simple" / "multichat-mcp"
    page.mkdir(parents=True)
    (page / "index.html").write_text(
        f'<html><body><a href="../../files/{wheel.name}#sha256={digest}">{wheel.name}</a>'
        "</body></html>"
    )
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/simple"
    finally:
        server.shutdown()
        thread.join(timeout=10)


def test_the_wheel_carries_the_template(wheel: Path):
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    assert "multichat/_template/copier.yml" in names
    assert "multichat/_template/template/workspace/provider-config.yaml" in names
    assert "multichat/_template/template/presets/sandbox/config.yaml.jinja" in names
    provider = "multichat/_template/template/provider/src/providers/{{ provider_name }}/"
    for contract in ("mcp_instance.py.jinja", "server_auth.py.jinja", "api/auth.py.jinja"):
        assert provider + contract in names
    assert not any("__pycache__" in name for name in names)
    metadata = next(name for name in names if name.endswith(".dist-info/METADATA"))
    with zipfile.ZipFile(wheel) as archive:
        text = archive.read(metadata).decode()
    assert "Name: multichat-mcp" in text
    # The README PyPI shows: its links lead to the repository's pages, not to a docs/ it lacks.
    assert "](docs/" not in text
    assert f"]({docs_page('quickstart.md')})" in text


async def test_a_tool_install_makes_a_workspace_a_teammate_can_clone(index: str, tmp_path: Path):
    home = tmp_path / "home"
    (home / ".config" / "Claude").mkdir(parents=True)  # as if Claude Desktop had run once
    env = clean_env(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        UV_TOOL_DIR=str(home / ".local" / "share" / "uv" / "tools"),
        UV_TOOL_BIN_DIR=str(home / ".local" / "bin"),
        UV_CACHE_DIR=os.environ.get("UV_CACHE_DIR", str(Path.home() / ".cache" / "uv")),
        UV_INDEX=index,
        UV_PYTHON=sys.executable,
        PATH=user_path(home / ".local" / "bin"),
        GIT_AUTHOR_NAME="t",
        GIT_AUTHOR_EMAIL="t@example.com",
        GIT_COMMITTER_NAME="t",
        GIT_COMMITTER_EMAIL="t@example.com",
    )
    env.pop("VIRTUAL_ENV", None)
    run(["uv", "tool", "install", "multichat-mcp"], cwd=tmp_path, env=env)
    multichat = str(home / ".local" / "bin" / "multichat")

    first = tmp_path / "first"
    first.mkdir()
    run([multichat, "init", "team-chats"], cwd=first, env=env)
    ws = first / "team-chats"
    run([multichat, "new", "provider", "chat", "--preset", "sandbox"], cwd=ws, env=env)
    run([multichat, "install", "claude-desktop"], cwd=ws, env=env)
    run([multichat, "install", "claude-code"], cwd=ws, env=env)
    desktop = (home / ".config" / "Claude" / "claude_desktop_config.json").read_text()
    assert str(ws) in desktop  # the user's own client file names this machine's folder
    run(["uv", "lock"], cwd=ws, env=env)
    run(["git", "init", "--quiet"], cwd=ws, env=env)
    run(["git", "add", "--all"], cwd=ws, env=env)
    run(["git", "commit", "--quiet", "-m", "our chats"], cwd=ws, env=env)

    committed = run(["git", "ls-files"], cwd=ws, env=env).split()
    assert "uv.lock" in committed
    assert ".mcp.json" in committed
    machine = [str(tmp_path), str(home), str(Path.home()), str(REPO), sys.prefix]
    for name in committed:
        text = (ws / name).read_text(errors="replace")
        for path in machine:
            assert path not in text, (name, path)

    second = tmp_path / "second"
    second.mkdir()
    run(["git", "clone", "--quiet", str(ws), "team-chats"], cwd=second, env=env)
    clone = second / "team-chats"
    transport = StdioTransport(
        command="uv", args=["run", "multichat", "run"], cwd=str(clone), env=env
    )
    async with Client(transport, timeout=5 * DEADLINE) as client:
        names = {tool.name for tool in await client.list_tools()}
    assert {"chat_catch_up", "chat_send_message", "chat_provider_info"} <= names


def test_the_readme_demo_runs_from_the_installed_tool(index: str, tmp_path: Path):
    home = tmp_path / "home"
    env = clean_env(
        HOME=str(home),
        UV_TOOL_DIR=str(home / "tools"),
        UV_TOOL_BIN_DIR=str(home / "bin"),
        UV_CACHE_DIR=os.environ.get("UV_CACHE_DIR", str(Path.home() / ".cache" / "uv")),
        UV_INDEX=index,
        UV_PYTHON=sys.executable,
    )
    env.pop("VIRTUAL_ENV", None)
    run(["uv", "tool", "install", "multichat-mcp"], cwd=tmp_path, env=env)
    multichat = str(home / "bin" / "multichat")
    kept = tmp_path / "demo"
    out = run([multichat, "demo", "--dir", str(kept)], cwd=tmp_path, env=env)
    assert "Done in" in out
    # Its bin folder is not on this PATH: the hints and the client entry name it by its path.
    assert f"  cd {kept} && {multichat} run\n" in out
    server = {"command": multichat, "args": ["run", "--config", str(kept / "provider-config.yaml")]}
    assert json.dumps({"mcpServers": {"sandbox": server}}) in out


def user_path(bin_dir: Path) -> str:
    """The user's PATH: the tool's bin folder first, and not this test run's environment."""
    ours = str(Path(sys.executable).parent)
    kept = [entry for entry in os.environ["PATH"].split(os.pathsep) if entry != ours]
    return os.pathsep.join([str(bin_dir), *kept])


@pytest.fixture(scope="module")
def tool(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, str], Path]:
    """The wheel installed with ``uv tool install``, its bin folder on PATH: (env, multichat)."""
    home = tmp_path_factory.mktemp("tool-home")
    env = clean_env(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        UV_TOOL_DIR=str(home / "tools"),
        UV_TOOL_BIN_DIR=str(home / "bin"),
        UV_CACHE_DIR=os.environ.get("UV_CACHE_DIR", str(Path.home() / ".cache" / "uv")),
        UV_PYTHON=sys.executable,
        PATH=user_path(home / "bin"),
    )
    for variable in ("VIRTUAL_ENV", "UV_RUN_RECURSION_DEPTH"):
        env.pop(variable, None)
    run(["uv", "tool", "install", "--quiet", str(wheel)], cwd=home, env=env)
    return env, home / "bin" / "multichat"


async def test_a_tool_install_names_itself_not_uv_run(tool, tmp_path: Path):
    env, multichat = tool
    made = run(["multichat", "init", "ws"], cwd=tmp_path, env=env)
    assert "  multichat new provider NAME\n  multichat run\n" in made
    ws = tmp_path / "ws"
    added = run(["multichat", "new", "provider", "chat", "--preset", "sandbox"], cwd=ws, env=env)
    assert "  multichat auth chat\n" in added
    assert docs_page("platforms/README.md") in run(
        ["multichat", "new", "provider", "-h"], cwd=ws, env=env
    )
    readme = (ws / "README.md").read_text()
    assert "multichat run" in readme
    for text in (made, added, readme):
        assert "uv run multichat" not in text

    printed = run(["multichat", "install", "mcp-json", "-p", "chat"], cwd=ws, env=env)
    entry = json.loads(printed)["mcpServers"]["ws"]
    config = str(ws / "provider-config.yaml")
    assert entry == {
        "command": str(multichat),
        "args": ["run", "--config", config, "--provider", "chat"],
    }
    run(["multichat", "install", "claude-code"], cwd=ws, env=env)
    project = json.loads((ws / ".mcp.json").read_text())["mcpServers"]["ws"]
    assert project["command"] == "multichat"  # the shell finds it; the file names no home folder
    assert project["args"] == ["run", "--config", "./provider-config.yaml"]

    # What a `uv run multichat` that finds no multichat-mcp on the index leaves behind.
    run(["uv", "venv", "--quiet", ".venv"], cwd=ws, env=env)
    doctor = subprocess.run(
        ["multichat", "doctor"],
        cwd=ws,
        env=env,
        capture_output=True,
        text=True,
        timeout=5 * DEADLINE,
        check=False,
    )
    assert doctor.returncode == 0, doctor.stderr
    tool_env = Path(env["UV_TOOL_DIR"], "multichat-mcp")
    assert f"ok: multichat {__version__} in {tool_env}" in doctor.stdout
    note = f"note: {ws / '.venv'} has no multichat; using multichat {__version__}"
    assert note in doctor.stderr

    # The entry a client got serves from anywhere, and the project file's from the workspace.
    for command, args, cwd in (
        (entry["command"], entry["args"], tmp_path),
        (project["command"], project["args"], ws),
    ):
        transport = StdioTransport(command=command, args=args, cwd=str(cwd), env=env)
        async with Client(transport, timeout=DEADLINE) as client:
            names = {tool.name for tool in await client.list_tools()}
        assert "chat_catch_up" in names
