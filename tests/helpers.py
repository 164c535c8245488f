"""Helpers shared by the tests: the console script, processes, ports, environments, file trees,
config edits and the mock authorization server: each kept once, here.

A plain module (not a conftest) so every test can import it: ``from helpers import run_cli``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import queue
import shutil
import stat
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

BIN = Path(sys.executable).parent
MULTICHAT = str(BIN / "multichat")


#: Debian's Chromium, driven headless by Playwright (never a downloaded build), with the flags
#: that keep it off the network this machine does not have (../shared/TEST-SERVERS.md).
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without MULTICHAT_*, pytest's own and MYPYPATH, plus ``extra``."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("MULTICHAT_", "PYTEST_")) and key != "MYPYPATH"
    }
    env.update(extra)
    return env


def stop_process(process: subprocess.Popen[Any], grace: float = 10.0) -> None:
    """Terminate ``process`` (kill it if it does not stop within ``grace`` seconds) and reap it."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=grace)
    for stream in (process.stdin, process.stdout, process.stderr):
        if stream is not None:
            with contextlib.suppress(OSError, ValueError):
                stream.close()


def file_tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (bytecode caches aside) and its content, by relative path."""
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


def tree_snapshot(root: Path) -> dict[str, str]:
    """Every file (sha256 and mode), folder and link under ``root``, dotfiles included."""
    tree: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        info = path.lstat()
        if stat.S_ISLNK(info.st_mode):
            tree[relative] = f"link:{os.readlink(path)}"
        elif stat.S_ISDIR(info.st_mode):
            tree[relative] = "dir"
        else:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            tree[relative] = f"{digest}:{stat.S_IMODE(info.st_mode):o}"
    return tree


def set_provider_keys(workspace: Path, provider: str, **values: object) -> None:
    """Set keys of one provider in ``provider-config.yaml`` (round trip: comments survive)."""
    from ruamel.yaml import YAML

    path = workspace / "provider-config.yaml"
    yaml = YAML()
    document = yaml.load(path.read_text(encoding="utf-8"))
    for key, value in values.items():
        document["providers"][provider][key] = value
    with path.open("w", encoding="utf-8") as handle:
        yaml.dump(document, handle)


def run_module(*args: str, cwd: Path, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    """``python -m ARGS`` (ruff, mypy, pytest on generated code) in ``cwd``, clean environment."""
    return subprocess.run(
        [sys.executable, "-m", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=clean_env(),
        stdin=subprocess.DEVNULL,
        check=False,
    )


def run_cli(
    *args: str, cwd: Path, timeout: float = 120, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the installed ``multichat`` console script in a subprocess."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("MULTICHAT_")}
    full_env.update(env or {})
    return subprocess.run(
        [MULTICHAT, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=full_env,
        stdin=subprocess.DEVNULL,
        check=False,
    )


NODE_CACHE = Path.home() / ".cache" / "multichat-tests"
MOCK_SCRIPT = Path(__file__).parent / "support" / "mock_oauth_server.mjs"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


#: A provider's password hooks, written by hand into its api/auth.py: what a platform whose
#: password login is its own (Matrix) supplies. Here they speak OAuth's password grant.
PASSWORD_HOOKS = '''

import httpx2 as _httpx2

_TOKEN_URL = get_provider_config_value(PROVIDER_NAME, "oauth")["token_url"]
REFRESHES: list[str] = []


def exchange_password(username: str, password: str) -> dict[str, Any]:
    """The sandbox's OAuth password grant."""
    form = {"grant_type": "password", "username": username, "password": password,
            "client_id": "multichat-sandbox"}
    return dict(_httpx2.post(_TOKEN_URL, data=form, timeout=10).json())


async def refresh_credentials(credentials: Mapping[str, Any]) -> dict[str, Any]:
    """The refresh grant, counted."""
    REFRESHES.append("x")
    form = {"grant_type": "refresh_token", "refresh_token": credentials["refresh_token"],
            "client_id": "multichat-sandbox"}
    async with _httpx2.AsyncClient() as http:
        return dict((await http.post(_TOKEN_URL, data=form)).json())
'''


def add_password_hooks(workspace: Path, provider: str) -> None:
    """Append :data:`PASSWORD_HOOKS` to a sandbox provider's ``api/auth.py``."""
    auth_module = workspace / "src" / "providers" / provider / "api" / "auth.py"
    auth_module.write_text(
        auth_module.read_text().replace(
            "from multichat.runtime import Credentials, provider_auth",
            "from multichat.runtime import Credentials, get_provider_config_value, provider_auth",
        )
        + PASSWORD_HOOKS
    )


def generated_workspace(folder: Path, name: str, preset: str, data: dict[str, Any]) -> Path:
    """A fresh workspace in ``folder`` with provider ``name`` generated from ``preset``."""
    from multichat.generator.provider import add_provider
    from multichat.generator.workspace import create_workspace

    create_workspace(folder)
    add_provider(name, config_path=folder / "provider-config.yaml", preset=preset, data=data)
    return folder


def install_npm_tool(package: str, version: str, script: Path) -> Path:
    """Install ``package@version`` from npm once into the shared cache, beside a copy of ``script``.

    A file lock keeps parallel test processes from installing twice. Returns the copied script,
    whose ``import`` of the package resolves from that folder's ``node_modules``.
    """
    from filelock import FileLock

    folder = NODE_CACHE / f"{package}-{version}"
    folder.mkdir(parents=True, exist_ok=True)
    with FileLock(str(folder / ".install.lock")):
        if not (folder / "node_modules" / package / "package.json").is_file():
            npm = shutil.which("npm")
            if npm is None:
                pytest.fail(f"npm is needed to install {package} for the tests")
            subprocess.run(
                [
                    npm,
                    "install",
                    "--no-audit",
                    "--no-fund",
                    "--save-exact",
                    "--prefix",
                    str(folder),
                    f"{package}@{version}",
                ],
                check=True,
                capture_output=True,
                timeout=300,
            )
        # Replaced whole, and only when it changed: another test process may be starting
        # node on this very file.
        target = folder / script.name
        if not target.is_file() or target.read_bytes() != script.read_bytes():
            partial = target.with_name(f".{target.name}.{os.getpid()}")
            shutil.copy2(script, partial)
            os.replace(partial, target)
    return target


def install_mock_server() -> Path:
    return install_npm_tool("oauth2-mock-server", "9.3.0", MOCK_SCRIPT)


class MockOAuthServer:
    """A running oauth2-mock-server with counters and fault switches (see support/*.mjs)."""

    def __init__(self, url: str) -> None:
        self.url = url

    def _get(self, path: str, **params: object) -> dict:
        import httpx2

        response = httpx2.get(f"{self.url}{path}", params=params, timeout=10)
        response.raise_for_status()
        return response.json()

    def stats(self) -> dict:
        return self._get("/__stats")

    def configure(self, **settings: object) -> dict:
        return self._get("/__config", **{k: str(v).lower() for k, v in settings.items()})

    def reset(self) -> None:
        self._get("/__reset")

    def refreshes(self) -> int:
        return int(self.stats()["token"].get("refresh_token", 0))


CLIENT_ID = "multichat-test-client"
CLIENT_SECRET = "test-client-secret-5f2c9a"


class LinePump:
    """Reads a pipe on a thread, so a test can wait for lines with a deadline.

    ``seen`` holds every line read so far, whether or not ``next_line`` handed it out.
    """

    def __init__(self, stream: Any) -> None:
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        self._thread = threading.Thread(target=self._run, args=(stream,), daemon=True)
        self._thread.start()

    def _run(self, stream: Any) -> None:
        try:
            for line in stream:
                self.seen.append(line)
                self.lines.put(line)
        except (OSError, ValueError):
            pass
        finally:
            self.lines.put(None)

    def next_line(self, deadline: float) -> str | None:
        """The next line, or ``None`` at EOF; fails the test when ``deadline`` passes first."""
        remaining = deadline - time.monotonic()
        try:
            return self.lines.get(timeout=max(remaining, 0.001))
        except queue.Empty:
            pytest.fail("no line from the server before the deadline")

    def drain(self, timeout: float = 10.0) -> list[str]:
        """Every line up to EOF (the process must have exited or closed the pipe)."""
        deadline = time.monotonic() + timeout
        while self.next_line(deadline) is not None:
            pass
        return self.seen

    def join(self, timeout: float) -> str:
        """Wait (at most ``timeout`` s) for EOF; everything read, as one string."""
        self._thread.join(timeout)
        return "".join(self.seen)


#: A tool module for a provider ``chat_provider``: its ``info`` is served as
#: ``chat_provider_info``, the name provider ``chat``'s ``provider_info`` is served as too.
CHAT_PROVIDER_INFO = '''\
"""Served as chat_provider_info, as chat's provider_info is."""

from ..mcp_instance import tool


@tool(read_only=True)
def info() -> str:
    """Say which provider answers."""
    return "I am chat_provider.info"
'''


#: An MCP ``initialize`` request (protocol 2025-06-18): what a client sends first.
INITIALIZE_REQUEST: dict[str, Any] = {
    "jsonrpc": "2.0",
    "id": 0,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "test", "version": "1"},
    },
}
#: The same as one stdio line.
INITIALIZE_LINE = json.dumps(INITIALIZE_REQUEST) + "\n"


#: The bearer token tests start ``multichat run --transport http`` with.
HTTP_TOKEN = "a-test-token-of-more-than-16-chars"


@contextlib.contextmanager
def serving_http(
    workspace: Path, *args: str, own_session: bool = False, **env: str
) -> Iterator[tuple[subprocess.Popen[str], LinePump]]:
    """``multichat run --transport http ARGS`` in ``workspace`` (``HTTP_TOKEN`` and ``env`` in
    its environment), its stderr read line by line; stopped on the way out. ``own_session``: a
    process group of its own, as in a terminal."""
    process = subprocess.Popen(
        [MULTICHAT, "run", "--transport", "http", *args],
        cwd=workspace,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_env(MULTICHAT_HTTP_TOKEN=HTTP_TOKEN, **env),
        start_new_session=own_session,
    )
    try:
        yield process, LinePump(process.stderr)
    finally:
        stop_process(process)


def wait_for_line(pump: LinePump, text: str, deadline: float) -> str:
    """The next line of ``pump`` containing ``text``; fails at the deadline or EOF."""
    while True:
        line = pump.next_line(deadline)
        assert line is not None, "".join(pump.seen)
        if text in line:
            return line


@asynccontextmanager
async def connect(workspace: Path) -> AsyncIterator[Any]:
    """A real MCP client, in memory, on the server ``build_server`` makes for ``workspace``."""
    from fastmcp import Client

    from multichat.runtime import build_server, load_config

    server, report = build_server(load_config(workspace / "provider-config.yaml"))
    assert report.failures == []
    async with Client(server) as client:
        yield client


class HtmlForm(HTMLParser):
    """The first form of a page as a browser would send it: action, method, fields, buttons.

    ``fields`` holds hidden, text and password inputs, checked checkboxes (``checked`` lists
    every value per name) and selected options; ``buttons`` maps a button's id to its value.
    """

    def __init__(self, html: str) -> None:
        super().__init__()
        self.action = ""
        self.method = "get"
        self.fields: dict[str, str] = {}
        self.checked: dict[str, list[str]] = {}
        self.buttons: dict[str, str] = {}
        self._forms = 0
        self._select: str | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {key: value or "" for key, value in attrs}
        if tag == "form":
            self._forms += 1
            if self._forms == 1:
                self.action, self.method = attr.get("action", ""), attr.get("method", "get")
        if self._forms != 1:
            return
        kind = attr.get("type", "text")
        if tag == "input" and kind in ("hidden", "text", "password"):
            self.fields[attr["name"]] = attr.get("value", "")
        elif tag == "input" and kind == "checkbox" and "checked" in attr:
            self.checked.setdefault(attr["name"], []).append(attr["value"])
        elif tag == "select":
            self._select = attr["name"]
            self.fields.setdefault(self._select, "")
        elif tag == "option" and self._select and "selected" in attr:
            self.fields[self._select] = attr["value"]
        elif tag == "button":
            self.buttons[attr.get("id", "")] = attr.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None

    def data(self, **changes: str) -> dict[str, str | list[str]]:
        """The fields a browser would post (a list for a repeated name), with ``changes``."""
        data: dict[str, str | list[str]] = {**self.fields}
        for name, values in self.checked.items():
            data[name] = list(values)
        return {**data, **changes}
