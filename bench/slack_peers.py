"""Our Slack preset beside the Slack MCP servers people use, against one fake Slack (issue 16).

``uv run python -m bench.slack_peers [--rounds N] [--calls N] [--json FILE]``

Three servers (and two floors) over stdio, each talking to the same fake Slack
(``tests/platforms/slack``'s workspace, answered by a lenient twin of the test fake that
records, but serves, what Slack's 2021 description refuses) through one mitmproxy (PyPI, run
with ``uvx``) that sends every ``https://*.slack.com`` request to it:

- ours: ``multichat run`` on a workspace with a ``--preset slack`` provider whose
  ``api_base_url`` stays ``https://slack.com/api``; httpx honours ``HTTPS_PROXY`` and
  ``SSL_CERT_FILE``;
- korotovsky's ``slack-mcp-server`` (npm, a Go binary): ``SLACK_MCP_PROXY`` and
  ``SLACK_MCP_SERVER_CA``;
- ``@modelcontextprotocol/server-slack`` (npm): its URLs are fixed and Node 20's ``fetch`` ignores
  ``HTTPS_PROXY`` (:func:`reference_ignores_the_proxy` shows it), so a two-line ``--import``
  preload sets undici's global dispatcher to the proxy; ``NODE_EXTRA_CA_CERTS`` trusts its CA;
- a floor, not a peer: a bare FastMCP server making the same requests with httpx and returning
  Slack's answers as they came (``bench/slack_floor_server.py``), to show which part of our
  time per call is FastMCP's and which the preset's; and the same floor served on multichat's
  stdio transport and uvloop, as ``multichat run`` serves (the least a FastMCP server on our
  transport can spend on a call).

Measured: spawn to the first ``tools/list`` answer, ``tools/list`` bytes per tool, and the time
of a ``tools/call`` for channel list, history and search (the median of ``--calls`` calls in one
session, after one warm-up call) with the CPU the server's processes spent per call (Linux's
``/proc``); and which of the twelve jobs each server's tools can do.
Peers are installed once into ``~/.cache/multichat-bench/peers`` with npm.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

ROOT = Path(__file__).resolve().parent.parent
PEERS = Path.home() / ".cache" / "multichat-bench" / "peers"
PEER_PACKAGES = {
    "slack-mcp-server": "1.3.0",
    "@modelcontextprotocol/server-slack": "2025.4.25",
    "undici": "6.29.1",
}
MITMPROXY = "mitmproxy==11.0.2"
USER_TOKEN = "xoxp-1-bench-user"
BOT_TOKEN = "xoxb-1-bench-bot"
DEADLINE = 60.0
JOBS = (
    "list_channels",
    "get_channel_history",
    "get_thread",
    "send_message",
    "reply_to_thread",
    "edit_message",
    "delete_message",
    "add_reaction",
    "search_messages",
    "list_users",
    "get_my_mentions",
    "catch_up",
)

PRELOAD = """\
import { ProxyAgent, setGlobalDispatcher } from "undici";
setGlobalDispatcher(new ProxyAgent(process.env.HTTPS_PROXY));
"""
ADDON = """\
from mitmproxy import http

def request(flow: http.HTTPFlow) -> None:
    flow.request.scheme = "http"
    flow.request.host = "127.0.0.1"
    flow.request.port = {port}
"""


@dataclass
class Server:
    """One MCP server under test: how to start it, what to call, which jobs its tools do."""

    name: str
    argv: list[str]
    env: dict[str, str]
    cwd: Path
    #: measure -> (tool, arguments); a missing measure means the server has no such tool.
    calls: dict[str, tuple[str, dict[str, Any]]]
    #: job -> the tool that does it (or a note on how), for the tools this server lists.
    jobs: dict[str, str] = field(default_factory=dict)


# ---- the fake Slack, lenient -------------------------------------------------------------------


def _test_modules() -> None:
    """The fake's workspace and spec readers live with the tests."""
    for folder in (ROOT / "tests", ROOT / "tests" / "platforms" / "slack"):
        if str(folder) not in sys.path:
            sys.path.insert(0, str(folder))


class LenientSlack:
    """Slack's answers from ``SlackWorld`` for any request; what the description refuses is
    recorded per method, not refused, so peers can be timed."""

    def __init__(self) -> None:
        _test_modules()
        from slack_world import SlackWorld
        from support.platform_specs import SpecViolation, load_spec

        self.world = SlackWorld()
        _enlarge(self.world)
        # korotovsky searches with search.all: messages as search.messages answers them, and
        # files beside them (https://docs.slack.dev/reference/methods/search.all).
        self.world.search_all = lambda request: (
            self.world.search_messages(request)
            | {
                "files": {
                    "matches": [],
                    "total": 0,
                    "paging": {"count": 20, "page": 1, "pages": 0, "total": 0},
                }
            }
        )
        self.spec = load_spec("slack")
        self._violation = SpecViolation
        self.calls: Counter[str] = Counter()
        self.refused: dict[str, str] = {}
        self.unknown: Counter[str] = Counter()

    def app(self) -> Any:
        from fastapi import FastAPI, Request, Response

        app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

        async def answer(request: Request) -> Response:
            body = await request.body()
            status, payload = self.handle(
                request.method, str(request.url), dict(request.headers), body
            )
            return Response(json.dumps(payload), status_code=status, media_type="application/json")

        app.add_route("/{path:path}", answer, methods=["GET", "POST"])
        return app

    def handle(
        self, method: str, url: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, Any]:
        from support.fake_platform import RecordedRequest

        path = urlsplit(url).path
        name = path.rsplit("/", 1)[-1]
        self.calls[name] += 1
        try:
            checked = self.spec.validate_request(method, url, headers=headers, body=body)
            arguments = dict(checked.arguments)
        except self._violation as violation:
            self.refused.setdefault(name, str(violation).splitlines()[-1][:200])
            arguments = dict(parse_qsl(urlsplit(url).query))
            if body:
                try:
                    arguments.update(json.loads(body))
                except ValueError:
                    arguments.update(parse_qsl(body.decode()))
        handler = getattr(self.world, _HANDLERS.get(name, ""), None)
        if handler is None:
            self.unknown[name] += 1
            return 200, {"ok": False, "error": "unknown_method"}
        request = RecordedRequest(method, url, headers, body, name.replace(".", "_"), {}, arguments)
        return 200, handler(request)


_HANDLERS = {
    "auth.test": "auth_test",
    "users.info": "users_info",
    "users.list": "users_list",
    "conversations.list": "conversations_list",
    "users.conversations": "users_conversations",
    "conversations.info": "conversations_info",
    "conversations.history": "conversations_history",
    "conversations.replies": "conversations_replies",
    "search.messages": "search_messages",
    "chat.postMessage": "post",
    "chat.update": "update",
    "chat.delete": "delete",
    "reactions.add": "react",
    "reactions.get": "reactions",
    "conversations.mark": "mark",
    "search.all": "search_all",
}


def _enlarge(world: Any) -> None:
    """A workspace closer to a real one: 60 more channels, 200 more messages in #general."""
    from slack_world import GENERAL, GRACE, LINUS, conversation, message

    for n in range(60):
        channel = f"C0BENCH{n:03d}"
        world.channels[channel] = conversation(channel, f"team-{n:02d}", is_member=n % 3 == 0)
        world.messages[channel] = [message(3000 + n, GRACE, f"hello team {n}")]
    extra = [
        message(1000 + n, GRACE if n % 2 else LINUS, f"status update {n}: flamegraph <@U0ADA00001>")
        for n in range(200)
    ]
    world.messages[GENERAL] = sorted(world.messages[GENERAL] + extra, key=lambda m: m["ts"])


# ---- processes -----------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_port(port: int, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {seconds} s")


@contextmanager
def mitmproxy(target_port: int, folder: Path) -> Iterator[tuple[str, Path]]:
    """mitmdump on a free port sending everything to the fake; yields its URL and CA file."""
    addon = folder / "to_fake.py"
    addon.write_text(ADDON.format(port=target_port))
    port = _free_port()
    log = (folder / "mitmdump.log").open("w")
    process = subprocess.Popen(
        [
            "uvx",
            "--from",
            MITMPROXY,
            "mitmdump",
            "--listen-host",
            "127.0.0.1",
            "--listen-port",
            str(port),
            "--set",
            f"confdir={folder}",
            # Lazy: connect upstream only for a request, after the addon sent it to the fake
            # (eager CONNECTs would try slack.com itself, unreachable here: 502 Bad Gateway).
            "--set",
            "connection_strategy=lazy",
            "-s",
            str(addon),
            "--quiet",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_port(port, 120)
        yield f"http://127.0.0.1:{port}", folder / "mitmproxy-ca-cert.pem"
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


class Session:
    """A server over stdio, spoken to in JSON-RPC lines; every wait has a deadline."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self._log = tempfile.TemporaryFile("w+")  # noqa: SIM115 - closed by close()
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            server.argv,
            cwd=server.cwd,
            env=server.env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self._id = 0

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def request(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        self._id += 1
        self._send({"jsonrpc": "2.0", "id": self._id, "method": method, "params": params})
        deadline = time.monotonic() + DEADLINE
        while True:
            line = self._lines.get(timeout=max(0.001, deadline - time.monotonic()))
            if line is None:
                self._log.seek(0)
                tail = self._log.read()[-1500:]
                raise RuntimeError(f"{self.server.name} closed stdout during {method}:\n{tail}")
            answer = json.loads(line)
            if answer.get("id") == self._id:
                return answer

    def _send(self, message: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(message) + "\n")
        self.process.stdin.flush()

    def start(self) -> tuple[float, list[dict[str, Any]]]:
        """Initialize and list the tools: seconds from spawn, and the tools."""
        self.request(
            "initialize",
            {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "bench", "version": "1"},
            },
        )
        self._send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        tools = self.request("tools/list", {})["result"]["tools"]
        return time.perf_counter() - self.started, tools

    def call(self, tool: str, arguments: dict[str, Any]) -> tuple[float, dict[str, Any]]:
        started = time.perf_counter()
        answer = self.request("tools/call", {"name": tool, "arguments": arguments})
        return time.perf_counter() - started, answer.get("result") or answer

    def close(self) -> None:
        self.process.kill()
        self.process.wait()
        self._log.close()


# ---- the servers --------------------------------------------------------------------------------


def install_peers() -> None:
    """npm install the peers (and undici for the preload) once."""
    marker = PEERS / "node_modules" / "@modelcontextprotocol" / "server-slack" / "package.json"
    if not marker.is_file():
        PEERS.mkdir(parents=True, exist_ok=True)
        specs = [f"{name}@{version}" for name, version in PEER_PACKAGES.items()]
        subprocess.run(
            [
                "npm",
                "install",
                "--no-audit",
                "--no-fund",
                "--save-exact",
                "--prefix",
                str(PEERS),
                *specs,
            ],
            check=True,
            capture_output=True,
            timeout=600,
        )
    (PEERS / "proxy-preload.mjs").write_text(PRELOAD)


def base_env() -> dict[str, str]:
    keep = ("PATH", "HOME", "LANG", "TMPDIR", "UV_CACHE_DIR", "XDG_CACHE_HOME")
    return {key: os.environ[key] for key in keep if key in os.environ}


def ours(folder: Path, proxy: str, ca: Path) -> Server:
    from multichat.generator.provider import add_provider
    from multichat.generator.workspace import create_workspace

    workspace = folder / "ours"
    if not workspace.exists():
        create_workspace(workspace)
        add_provider("slack", config_path=workspace / "provider-config.yaml", preset="slack")
    env = base_env() | {
        "MULTICHAT_SLACK_TOKEN": USER_TOKEN,
        "HTTPS_PROXY": proxy,
        "SSL_CERT_FILE": str(ca),
    }
    multichat = str(Path(sys.executable).parent / "multichat")
    return Server(
        "multichat (ours)",
        [multichat, "run"],
        env,
        workspace,
        {
            "channel list": ("slack_list_channels", {}),
            "history": ("slack_get_channel_history", {"channel_id": "C0GENERAL1", "limit": 20}),
            "search": ("slack_search_messages", {"query": "flamegraph", "limit": 20}),
        },
        {job: f"slack_{job}" for job in JOBS},
    )


def korotovsky(folder: Path, proxy: str, ca: Path) -> Server:
    caches = Path(tempfile.mkdtemp(prefix="korotovsky-", dir=folder))
    env = base_env() | {
        "SLACK_MCP_XOXP_TOKEN": USER_TOKEN,
        "SLACK_MCP_PROXY": proxy,
        "SLACK_MCP_SERVER_CA": str(ca),
        "SLACK_MCP_ADD_MESSAGE_TOOL": "true",
        "SLACK_MCP_REACTION_TOOL": "true",
        "SLACK_MCP_MARK_TOOL": "true",
        "SLACK_MCP_USERS_CACHE": str(caches / "users.json"),
        "SLACK_MCP_CHANNELS_CACHE": str(caches / "channels.json"),
        "SLACK_MCP_LOG_LEVEL": "error",
    }
    binary = PEERS / "node_modules" / ".bin" / "slack-mcp-server"
    return Server(
        "korotovsky/slack-mcp-server",
        [str(binary), "--transport", "stdio"],
        env,
        folder,
        {
            "channel list": (
                "channels_list",
                {"channel_types": "public_channel,private_channel,im,mpim", "limit": 100},
            ),
            "history": ("conversations_history", {"channel_id": "C0GENERAL1", "limit": "20"}),
            "search": (
                "conversations_search_messages",
                {"search_query": "flamegraph", "limit": 20},
            ),
        },
        {
            "list_channels": "channels_list",
            "get_channel_history": "conversations_history",
            "get_thread": "conversations_replies",
            "send_message": "conversations_add_message",
            "reply_to_thread": "conversations_add_message (thread_ts)",
            "add_reaction": "reactions_add",
            "search_messages": "conversations_search_messages",
            # Partly: a search by name, not a listing; unread mentions only, not recent ones.
            "list_users": "~users_search (by name; no listing)",
            "get_my_mentions": "~conversations_unreads (mentions_only: unread ones only)",
            "catch_up": "conversations_unreads",
        },
    )


def reference(folder: Path, proxy: str, ca: Path) -> Server:
    env = base_env() | {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_TEAM_ID": "T0TEAM0001",
        "HTTPS_PROXY": proxy,
        "NODE_EXTRA_CA_CERTS": str(ca),
        "NODE_OPTIONS": f"--import={(PEERS / 'proxy-preload.mjs').as_uri()}",
    }
    script = PEERS / "node_modules" / "@modelcontextprotocol" / "server-slack" / "dist" / "index.js"
    return Server(
        "@modelcontextprotocol/server-slack",
        ["node", str(script)],
        env,
        PEERS,
        {
            "channel list": ("slack_list_channels", {"limit": 100}),
            "history": ("slack_get_channel_history", {"channel_id": "C0GENERAL1", "limit": 20}),
        },
        {
            "list_channels": "slack_list_channels",
            "get_channel_history": "slack_get_channel_history",
            "get_thread": "slack_get_thread_replies",
            "send_message": "slack_post_message",
            "reply_to_thread": "slack_reply_to_thread",
            "add_reaction": "slack_add_reaction",
            "list_users": "slack_get_users",
        },
    )


def floor(folder: Path, proxy: str, ca: Path) -> Server:
    """A bare FastMCP server making the same requests (bench/slack_floor_server.py)."""
    env = base_env() | {"SLACK_TOKEN": USER_TOKEN, "HTTPS_PROXY": proxy, "SSL_CERT_FILE": str(ca)}
    return Server(
        "bare FastMCP + httpx (floor)",
        [sys.executable, "-m", "bench.slack_floor_server"],
        env,
        ROOT,
        {
            "channel list": ("slack_list_channels", {"limit": 100}),
            "history": ("slack_get_channel_history", {"channel_id": "C0GENERAL1", "limit": 20}),
            "search": ("slack_search_messages", {"query": "flamegraph", "limit": 20}),
        },
    )


def floor_on_our_stdio(folder: Path, proxy: str, ca: Path) -> Server:
    """The floor on multichat's stdio transport and uvloop, as ``multichat run`` serves."""
    server = floor(folder, proxy, ca)
    server.name = "bare FastMCP + httpx on multichat's stdio (floor)"
    server.argv = [*server.argv, "--multichat-stdio"]
    return server


def reference_ignores_the_proxy(folder: Path, proxy: str, ca: Path, fake: LenientSlack) -> str:
    """Run the reference server with HTTPS_PROXY alone: its fetch never reaches the proxy."""
    server = reference(folder, proxy, ca)
    del server.env["NODE_OPTIONS"]
    before = sum(fake.calls.values())
    session = Session(server)
    try:
        session.start()
        _, result = session.call("slack_list_channels", {})
    finally:
        session.close()
    text = json.dumps(result)[:160]
    reached = sum(fake.calls.values()) - before
    return (
        f"HTTPS_PROXY={proxy} NODE_EXTRA_CA_CERTS=... node .../server-slack/dist/index.js -> "
        f"slack_list_channels answered {text!r}; requests that reached the proxy: {reached}"
    )


# ---- measuring -----------------------------------------------------------------------------------


def tree_cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of ``pid`` and every process under it, from ``/proc``.

    A call's wall time on a shared machine swings with the load; the CPU the server spends on
    it does much less, and it counts a peer's helper processes (korotovsky's npm launcher runs
    the Go binary as its child).
    """
    children: dict[int, list[int]] = {}
    seconds: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:  # fields after "(comm)": state, ppid, ..., utime (12th), stime (13th)
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone since listed
        children.setdefault(int(fields[1]), []).append(int(entry.name))
        seconds[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
    total, waiting = 0.0, [pid]
    while waiting:
        process = waiting.pop()
        total += seconds.get(process, 0.0)
        waiting.extend(children.get(process, ()))
    return total


def measure(servers: list[Server], rounds: int, calls: int) -> list[dict[str, Any]]:
    """Starts, then calls, each taken in turn across the servers so that load on the machine
    falls on all of them alike."""
    starts: dict[str, list[float]] = {server.name: [] for server in servers}
    tools: dict[str, list[dict[str, Any]]] = {}
    for _ in range(rounds):
        for server in servers:
            session = Session(server)
            try:
                elapsed, tools[server.name] = session.start()
                starts[server.name].append(elapsed)
            finally:
                session.close()
    sessions = {server.name: Session(server) for server in servers}
    timings: dict[str, dict[str, Any]] = {server.name: {} for server in servers}
    errors: dict[str, dict[str, str]] = {server.name: {} for server in servers}
    try:
        for session in sessions.values():
            session.start()
        for measure_name in ("channel list", "history", "search"):
            taking = [
                (server, *server.calls[measure_name])
                for server in servers
                if measure_name in server.calls
                and server.calls[measure_name][0] in {t["name"] for t in tools[server.name]}
            ]
            times: dict[str, list[float]] = {server.name: [] for server, _, _ in taking}
            for server, tool, arguments in taking:  # one warm-up call each
                first, result = sessions[server.name].call(tool, arguments)
                timings[server.name][measure_name] = {"first": first}
                if result.get("isError") or "error" in result:
                    errors[server.name][measure_name] = json.dumps(result)[:200]
            cpu_before = {name: tree_cpu_seconds(s.process.pid) for name, s in sessions.items()}
            for _ in range(calls):
                for server, tool, arguments in taking:
                    times[server.name].append(sessions[server.name].call(tool, arguments)[0])
            for name, values in times.items():
                used = tree_cpu_seconds(sessions[name].process.pid) - cpu_before[name]
                timings[name][measure_name].update(
                    median=statistics.median(values),
                    low=min(values),
                    high=max(values),
                    cpu=used / len(values),
                )
    finally:
        for session in sessions.values():
            session.close()
    rows = []
    for server in servers:
        listed = {tool["name"] for tool in tools[server.name]}
        size = len(json.dumps(tools[server.name], separators=(",", ":")).encode())
        bare = [{k: v for k, v in t.items() if k != "outputSchema"} for t in tools[server.name]]
        rows.append(
            {
                "server": server.name,
                "start_median": statistics.median(starts[server.name]),
                "start_low": min(starts[server.name]),
                "start_high": max(starts[server.name]),
                "tools": len(listed),
                "tools_list_bytes": size,
                "bytes_per_tool": size / max(1, len(listed)),
                "bytes_per_tool_without_output_schema": (
                    len(json.dumps(bare, separators=(",", ":")).encode()) / max(1, len(listed))
                ),
                "calls": timings[server.name],
                "call_errors": errors[server.name],
                "jobs": {
                    job: how
                    for job, how in server.jobs.items()
                    if how.split()[0].lstrip("~") in listed
                },
                "tool_names": sorted(listed),
            }
        )
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    measures = ("channel list", "history", "search")
    head = (
        "| server | start to tools/list | tools | bytes/tool (without outputSchema) | "
        + " | ".join(f"{m} (median; server CPU a call)" for m in measures)
        + " | jobs of 12 |"
    )
    lines = [head, "|" + "---|" * (5 + len(measures))]
    for row in rows:
        cells = [
            row["server"],
            f"{row['start_median'] * 1000:.0f} ms "
            f"({row['start_low'] * 1000:.0f}-{row['start_high'] * 1000:.0f})",
            str(row["tools"]),
            f"{row['bytes_per_tool']:.0f} ({row['bytes_per_tool_without_output_schema']:.0f})",
        ]
        for name in measures:
            timing = row["calls"].get(name)
            cells.append(
                f"{timing['median'] * 1000:.1f} ms ({timing['low'] * 1000:.1f}-"
                f"{timing['high'] * 1000:.1f}); CPU {timing['cpu'] * 1000:.1f} ms"
                if timing and "median" in timing
                else "no such tool"
            )
        partial = sum(1 for how in row["jobs"].values() if how.startswith("~"))
        whole = len(row["jobs"]) - partial
        if not row["jobs"]:
            cells.append("(a floor, not a peer)")
        else:
            cells.append(f"{whole} + {partial} partly" if partial else str(whole))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def run(rounds: int, calls: int) -> dict[str, Any]:
    _test_modules()
    from multichat.sandbox import SandboxServer

    install_peers()
    folder = Path(tempfile.mkdtemp(prefix="multichat-bench-slack-"))
    fake = LenientSlack()
    try:
        with SandboxServer(app=fake.app()) as served, mitmproxy(served.port, folder) as (proxy, ca):
            _wait_file(ca, 30)
            servers = [
                ours(folder, proxy, ca),
                korotovsky(folder, proxy, ca),
                reference(folder, proxy, ca),
                floor(folder, proxy, ca),
                floor_on_our_stdio(folder, proxy, ca),
            ]
            print("measuring ...", file=sys.stderr, flush=True)
            rows = measure(servers, rounds, calls)
            why = reference_ignores_the_proxy(folder, proxy, ca, fake)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return {
        "rows": rows,
        "reference_without_preload": why,
        "refused_by_the_2021_description": fake.refused,
        "methods_the_fake_does_not_know": dict(fake.unknown),
    }


def _wait_file(path: Path, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not path.is_file():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{path} did not appear within {seconds} s")
        time.sleep(0.1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.slack_peers", description=__doc__)
    parser.add_argument("--rounds", type=int, default=5, help="starts per server")
    parser.add_argument("--calls", type=int, default=20, help="timed calls per measure")
    parser.add_argument("--json", type=Path, help="also write the results as JSON")
    args = parser.parse_args(argv)
    report = run(args.rounds, args.calls)
    print(table(report["rows"]))
    for row in report["rows"]:
        print(f"\n{row['server']}: tools {row['tool_names']}; jobs {sorted(row['jobs'])}")
        if row["call_errors"]:
            print(f"  calls that answered an error: {row['call_errors']}")
    print(f"\nreference without the preload: {report['reference_without_preload']}")
    print(f"refused by Slack's 2021 description: {report['refused_by_the_2021_description']}")
    print(f"methods the fake does not answer: {report['methods_the_fake_does_not_know']}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
