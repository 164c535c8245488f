"""The demo's steps: sandbox, workspace, provider, sign-in, MCP server, tool calls, clean-up.

Each step runs the real part (the console commands in subprocesses, the consent form over HTTP,
an MCP client over stdio) and reports one line; a failing step raises :class:`DemoStepFailed`
naming itself, and everything started so far is stopped.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from multichat.contract import STATE_DIR, package_dir
from multichat.errors import MultichatError

PROVIDER = "sandbox"
COMMAND_TIMEOUT = 120.0


class DemoStepFailed(MultichatError):
    """One step of the demo failed; the message names the step and the reason."""


@dataclass
class DemoReport:
    """What the demo did, for the summary and for tests."""

    workspace: Path | None = None
    sandbox_url: str = ""
    tools: list[str] = field(default_factory=list)
    calls: dict[str, Any] = field(default_factory=dict)


Say = Callable[[str, str], None]


def _multichat(*args: str, cwd: Path, timeout: float = COMMAND_TIMEOUT) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "multichat", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["(no message)"])[-1]
        last = last.removeprefix("multichat: error: ")
        raise DemoStepFailed(f"`multichat {' '.join(args)}` exited {result.returncode}: {last}")
    return result.stdout


@contextmanager
def _step(name: str) -> Iterator[None]:
    """Name the step in whatever fails inside it (each step is a boundary of the demo)."""
    try:
        yield
    except (MultichatError, OSError, subprocess.SubprocessError, TimeoutError) as exc:
        raise DemoStepFailed(f"{name}: {exc}") from exc
    except Exception as exc:  # an MCP or protocol error must still end as one line, exit 1
        raise DemoStepFailed(f"{name}: {type(exc).__name__}: {exc}") from exc


def run_demo(directory: Path | None, keep: bool, say: Say) -> DemoReport:
    """Run every step; ``say(step, detail)`` reports progress."""
    from multichat.sandbox import SandboxServer

    report = DemoReport()
    with ExitStack() as stack:
        with _step("make a workspace"):
            if directory is None:
                parent = Path(tempfile.mkdtemp(prefix="multichat-demo-"))
                if not keep:
                    stack.callback(_remove_tree, parent)
                workspace = parent / "workspace"
            else:
                workspace = directory.expanduser().absolute()
            _multichat("init", str(workspace), cwd=workspace.parent)
        report.workspace = workspace
        say("workspace", str(workspace))

        with _step("start the sandbox"):
            # A kept workspace keeps the platform's database too, so it can be served again.
            database = workspace / STATE_DIR / "sandbox.db" if keep else None
            sandbox = stack.enter_context(SandboxServer(database))
        report.sandbox_url = sandbox.url
        say("sandbox", f"chat platform and OAuth server at {sandbox.url}")

        with _step("add the sandbox provider"):
            port = _free_port()
            _multichat(
                "new",
                "provider",
                PROVIDER,
                "--preset",
                "sandbox",
                "--defaults",
                "--data",
                f"platform_url={sandbox.url}",
                "--data",
                f"port={port}",
                cwd=workspace,
            )
        say(
            "provider",
            f"{package_dir(PROVIDER)} (12 chat tools) + its entry in provider-config.yaml",
        )

        with _step("sign in through the consent page"):
            _sign_in(workspace)
        say("sign-in", "consent page answered with Allow; token saved (mode 0600)")

        with _step("serve over MCP and call tools"):
            import anyio

            anyio.run(_use_tools, workspace, report, say)
    return report


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _remove_tree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


def _sign_in(workspace: Path) -> None:
    from multichat.demo.consent_form import answer_consent

    process = subprocess.Popen(
        [sys.executable, "-m", "multichat", "auth", PROVIDER, "--no-browser", "--timeout", "60"],
        cwd=workspace,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        if ": http" not in line:
            raise DemoStepFailed(f"`multichat auth` did not print a sign-in URL: {line.strip()}")
        page = answer_consent(line.split(": ", 1)[1].strip())
        if page.status_code != 200:
            raise DemoStepFailed(f"the callback answered HTTP {page.status_code}")
        _, err = process.communicate(timeout=COMMAND_TIMEOUT)
        if process.returncode != 0:
            raise DemoStepFailed(f"`multichat auth` exited {process.returncode}: {err.strip()}")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


async def _use_tools(workspace: Path, report: DemoReport, say: Say) -> None:
    from fastmcp import Client
    from fastmcp.client.transports import StdioTransport

    transport = StdioTransport(
        command=sys.executable, args=["-m", "multichat", "run"], cwd=str(workspace)
    )
    async with Client(transport, timeout=60) as client:
        report.tools = sorted(tool.name for tool in await client.list_tools())
        say("mcp", f"`multichat run` over stdio lists {len(report.tools)} tools")

        async def call(tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
            result = await client.call_tool(f"{PROVIDER}_{tool}", arguments)
            content = result.structured_content or {}
            report.calls[tool] = content
            return content

        news = await call("catch_up", {"per_channel": 1})
        busiest = ", ".join(
            f"#{c['channel_name']} {c['unread_count']}" for c in news["channels"][:4]
        )
        say(
            "catch_up",
            f"{news['total_unread']} unread in {len(news['channels'])} channels ({busiest})",
        )
        found = await call("search_messages", {"query": "flamegraph"})
        say("search_messages", "'flamegraph' -> " + ", ".join(m["id"] for m in found["messages"]))
        sent = await call(
            "send_message", {"channel_id": "C01", "text": "Hello from the multichat demo!"}
        )
        say("send_message", f"posted {sent['id']} in #{sent['channel_name']}")
        hit = found["messages"][0]
        root = hit["thread_id"] or hit["id"]
        thread = await call("get_thread", {"message_id": root})
        say(
            "get_thread",
            f"{root}: {len(thread['replies'])} replies, started by {thread['root']['author']}",
        )


def summary(report: DemoReport) -> str:
    """A JSON line of what the demo saw, for scripts (``--json``)."""
    return json.dumps(
        {
            "workspace": str(report.workspace),
            "sandbox_url": report.sandbox_url,
            "tools": report.tools,
            "calls": sorted(report.calls),
        }
    )
