"""What an MCP stack costs a call, with no platform behind it (issue 16's per-call gap).

``uv run python -m bench.stdio_frameworks [--rounds N] [--calls N]``

One tool answering the same canned text (the fake Slack's 20-message history page, 2.7 KB),
served over stdio by: FastMCP (what multichat runs on), the same FastMCP server on
multichat's stdio transport (``runtime/stdio.py``: the client's pipes read and written by the
loop, not worker threads), the MCP Python SDK's low-level ``Server`` (what FastMCP runs on),
each on asyncio's loop and on uvloop, and the MCP TypeScript
SDK's ``Server`` on Node (what ``@modelcontextprotocol/server-slack`` runs on, from the peers'
``node_modules``; ``python -m bench.slack_peers`` installs them). Printed: the median wall time
of a ``tools/call`` and the CPU the server process spends on each, calls taken in turn across
the servers. The gap between these rows is what a Slack call of ours pays before the preset or
the HTTP client do anything.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.slack_peers import PEERS, Server, Session, base_env, tree_cpu_seconds

NODE_SERVER = """\
import { readFileSync } from "fs";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { CallToolRequestSchema, ListToolsRequestSchema } from "@modelcontextprotocol/sdk/types.js";

const text = readFileSync(process.env.CANNED, "utf8");
const server = new Server({ name: "canned", version: "1" }, { capabilities: { tools: {} } });
server.setRequestHandler(ListToolsRequestSchema, async () => ({
  tools: [{ name: "history", description: "canned", inputSchema: { type: "object" } }],
}));
server.setRequestHandler(CallToolRequestSchema, async () => ({
  content: [{ type: "text", text }],
}));
await server.connect(new StdioServerTransport());
"""

FASTMCP_SERVER = """\
import os, sys
import anyio
from fastmcp import FastMCP

text = open(os.environ["CANNED"]).read()
server = FastMCP("canned")


@server.tool
async def history() -> str:
    "canned"
    return text


anyio.run(server.run_stdio_async, False, backend_options={"use_uvloop": sys.argv[1] == "uvloop"})
"""

MULTICHAT_STDIO_SERVER = FASTMCP_SERVER.replace(
    "anyio.run(server.run_stdio_async, False,",
    "from multichat.runtime.stdio import serve_stdio\n\nanyio.run(serve_stdio, server,",
)

SDK_SERVER = """\
import os, sys
import anyio
import mcp_types as types
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server

text = open(os.environ["CANNED"]).read()
tool = types.Tool(name="history", description="canned", input_schema={"type": "object"})


async def list_tools(ctx, params):
    return types.ListToolsResult(tools=[tool])


async def call_tool(ctx, params):
    return types.CallToolResult(content=[types.TextContent(type="text", text=text)])


server = Server("canned", on_list_tools=list_tools, on_call_tool=call_tool)


async def main():
    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())


anyio.run(main, backend_options={"use_uvloop": sys.argv[1] == "uvloop"})
"""


def canned_page(folder: Path) -> Path:
    """The fake Slack's answer to a 20-message ``conversations.history``, as a file."""
    from bench.slack_peers import LenientSlack

    fake = LenientSlack()
    _, page = fake.handle(
        "GET",
        "https://slack.com/api/conversations.history?channel=C0GENERAL1&limit=20",
        {"authorization": "Bearer xoxp-1"},
        b"",
    )
    path = folder / "history.json"
    path.write_text(json.dumps(page))
    return path


def servers(folder: Path, canned: Path) -> list[Server]:
    """The seven servers, each with ``CANNED`` naming the page it answers."""
    env = base_env() | {"CANNED": str(canned)}
    (folder / "fastmcp_server.py").write_text(FASTMCP_SERVER)
    (folder / "sdk_server.py").write_text(SDK_SERVER)
    (folder / "multichat_stdio_server.py").write_text(MULTICHAT_STDIO_SERVER)
    node_script = PEERS / "canned-server.mjs"  # beside node_modules, where its imports resolve
    node_script.parent.mkdir(parents=True, exist_ok=True)
    node_script.write_text(NODE_SERVER)
    found: list[Server] = []
    for label, script in (
        ("FastMCP", "fastmcp_server.py"),
        ("FastMCP on multichat's stdio", "multichat_stdio_server.py"),
        ("MCP Python SDK", "sdk_server.py"),
    ):
        for loop in ("asyncio", "uvloop"):
            argv = [sys.executable, str(folder / script), loop]
            found.append(Server(f"{label} ({loop})", argv, env, folder, {}))
    found.append(Server("MCP TypeScript SDK (Node)", ["node", str(node_script)], env, PEERS, {}))
    return found


def measure(chosen: list[Server], rounds: int, calls: int) -> list[dict[str, Any]]:
    """Median wall time and CPU per call of each server, rounds taken in turn, and the length
    of the text each answered (the canned page's, or the server is not doing the same work)."""
    sessions = {server.name: Session(server) for server in chosen}
    times: dict[str, list[float]] = {name: [] for name in sessions}
    cpu: dict[str, float] = dict.fromkeys(sessions, 0.0)
    answered: dict[str, int] = {}
    try:
        for name, session in sessions.items():
            session.start()
            for _ in range(20):
                _, result = session.call("history", {})
            answered[name] = len(result["content"][0]["text"])
        for _ in range(rounds):
            for name, session in sessions.items():
                before = tree_cpu_seconds(session.process.pid)
                times[name].extend(session.call("history", {})[0] for _ in range(calls))
                cpu[name] += tree_cpu_seconds(session.process.pid) - before
    finally:
        for session in sessions.values():
            session.close()
    return [
        {
            "server": name,
            "median": statistics.median(values),
            "cpu": cpu[name] / len(values),
            "answer_characters": answered[name],
        }
        for name, values in times.items()
    ]


def table(rows: list[dict[str, Any]]) -> str:
    """The rows as Markdown, each beside the fastest (the Node row, usually)."""
    fastest = min(row["cpu"] for row in rows)
    lines = [
        "| server | tools/call (median) | server CPU a call | CPU vs fastest |",
        "|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['server']} | {row['median'] * 1000:.2f} ms | {row['cpu'] * 1000:.2f} ms | "
            f"{row['cpu'] / fastest:.1f}x |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.stdio_frameworks", description=__doc__)
    parser.add_argument("--rounds", type=int, default=10, help="rounds taken in turn")
    parser.add_argument("--calls", type=int, default=100, help="calls per server per round")
    args = parser.parse_args(argv)
    from bench.slack_peers import install_peers

    install_peers()
    with tempfile.TemporaryDirectory(prefix="multichat-bench-stdio-") as name:
        folder = Path(name)
        rows = measure(servers(folder, canned_page(folder)), args.rounds, args.calls)
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
