"""``multichat run`` as a person starts it: over HTTP it says its URL and nothing noisier."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import httpx2
import pytest
from helpers import (
    CHAT_PROVIDER_INFO,
    HTTP_TOKEN,
    INITIALIZE_LINE,
    MULTICHAT,
    LinePump,
    clean_env,
    free_port,
    run_cli,
    serving_http,
    set_provider_keys,
    stop_process,
    wait_for_line,
)

DEADLINE = 60.0


def test_http_prints_its_url_once_listening_and_no_info_lines(
    workspace: Path, add_provider: Callable[..., Path]
) -> None:
    add_provider("alpha")
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    with serving_http(workspace, "--port", str(port), "--log-level", "WARNING") as served:
        process, errors = served
        line = wait_for_line(errors, "serving MCP at", time.monotonic() + DEADLINE)
        assert re.fullmatch(
            rf"multichat: serving MCP at {re.escape(url)} \(.*\); Ctrl-C stops it\n", line
        ), line
        # the line comes once the socket listens: a request right after it is answered
        response = httpx2.get(url, timeout=DEADLINE)
        assert response.status_code == 401
        process.send_signal(signal.SIGINT)
        process.wait(timeout=DEADLINE)
        seen = errors.join(DEADLINE)
    assert " INFO " not in seen, seen
    assert "uvicorn" not in seen, seen
    assert [line for line in seen.splitlines() if "serving MCP at" in line] == [line.strip()]


def test_reload_restarts_the_server_when_a_provider_changes(
    workspace: Path, add_provider: Callable[..., Path]
) -> None:
    package = add_provider("alpha")
    port = free_port()
    # In a session of its own: Ctrl-C reaches the whole group, as in a terminal.
    with serving_http(workspace, "--reload", "--port", str(port), own_session=True) as served:
        process, errors = served
        deadline = time.monotonic() + DEADLINE
        wait_for_line(errors, "for changes (--reload)", deadline)
        wait_for_line(errors, "serving MCP at", deadline)
        tool = package / "tools" / "provider_info.py"
        tool.write_text(tool.read_text() + "\n# edited\n")

        assert "provider_info.py changed" in wait_for_line(errors, "restarting", deadline)
        wait_for_line(errors, "serving MCP at", deadline)  # the new server listens again
        response = httpx2.get(f"http://127.0.0.1:{port}/mcp", timeout=DEADLINE)
        assert response.status_code == 401
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=DEADLINE)
    assert "Traceback" not in "".join(errors.seen)


def test_reload_stops_on_sigterm_with_exit_0_and_stops_its_server(
    workspace: Path, add_provider: Callable[..., Path]
) -> None:
    add_provider("alpha")
    port = free_port()
    with serving_http(workspace, "--reload", "--port", str(port)) as (process, errors):
        deadline = time.monotonic() + DEADLINE
        wait_for_line(errors, "serving MCP at", deadline)
        process.send_signal(signal.SIGTERM)  # a process manager stopping the watcher
        code = process.wait(timeout=DEADLINE)
        # the server, a child of the watcher, holds stderr too: EOF once it has ended as well
        seen = errors.join(DEADLINE)
    assert code == 0, seen
    assert "Traceback" not in seen
    with pytest.raises(httpx2.TransportError):
        httpx2.get(f"http://127.0.0.1:{port}/mcp", timeout=DEADLINE)


def test_reload_keeps_noticing_the_config_after_it_is_replaced(
    workspace: Path, add_provider: Callable[..., Path]
) -> None:
    """Editors, ``sed -i`` and multichat's own writes replace the file (a new one, renamed)."""
    add_provider("alpha")
    config = workspace / "provider-config.yaml"
    with serving_http(workspace, "--reload", "--port", "0", own_session=True) as served:
        process, errors = served
        deadline = time.monotonic() + DEADLINE
        wait_for_line(errors, "serving MCP at", deadline)
        for edit in ("# replaced once\n", "# replaced twice\n"):
            replacement = config.with_name(".provider-config.yaml.new")
            replacement.write_text(config.read_text() + edit)
            os.replace(replacement, config)
            line = wait_for_line(errors, "restarting", deadline)
            assert "provider-config.yaml changed" in line
            wait_for_line(errors, "serving MCP at", deadline)
        with config.open("a") as appended:  # and an edit in place after those
            appended.write("# appended\n")
        assert "provider-config.yaml" in wait_for_line(errors, "restarting", deadline)
        wait_for_line(errors, "serving MCP at", deadline)
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=DEADLINE)
    assert "Traceback" not in "".join(errors.seen)


def test_json_says_each_start_up_event_as_one_json_line(
    workspace: Path, add_provider: Callable[..., Path]
) -> None:

    add_provider("alpha")
    add_provider("broken")
    (workspace / "src/providers/broken/mcp_instance.py").write_text("raise ImportError('x')\n")
    set_provider_keys(workspace, "alpha", redd_only=True)  # a misspelling: a warning
    with serving_http(workspace, "--json", "--port", "0") as (process, errors):
        line = wait_for_line(errors, '"event": "serving"', time.monotonic() + DEADLINE)
        serving = json.loads(line)
        assert httpx2.get(serving["url"], timeout=DEADLINE).status_code == 401
        process.send_signal(signal.SIGINT)
        process.wait(timeout=DEADLINE)
        seen = errors.join(DEADLINE)
    events = [json.loads(text) for text in seen.splitlines() if text.strip()]
    kinds = [event["event"] for event in events]
    assert kinds.count("serving") == 1
    assert kinds.index("loaded") < kinds.index("serving")
    loaded = next(event for event in events if event["event"] == "loaded")
    assert [provider["name"] for provider in loaded["providers"]] == ["alpha"]
    assert "provider_info" in loaded["providers"][0]["tools"]
    assert (loaded["transport"], loaded["dynamic"]) == ("http", False)
    skipped = next(event for event in events if event["event"] == "skipped")
    assert skipped["provider"] == "broken"
    assert any(event["event"] == "warning" for event in events)
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/mcp", serving["url"])
    assert HTTP_TOKEN not in seen


def test_an_address_in_use_is_one_line_before_anything_loads(
    workspace: Path, add_provider: Callable[..., Path]
) -> None:
    import socket

    add_provider("alpha")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run_http(workspace, "--port", str(port))

    assert done.returncode == 2, done.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr
    assert "Traceback" not in done.stderr
    assert "serving MCP" not in done.stderr


def test_an_address_not_of_this_machine_names_host_not_port(
    workspace: Path, add_provider: Callable[..., Path]
) -> None:
    add_provider("alpha")
    # 192.0.2.0/24 is TEST-NET-1, for documentation only: no machine has it (RFC 5737 §3).
    done = run_http(workspace, "--host", "192.0.2.1", "--port", "0")

    assert done.returncode == 2, done.stderr
    assert "cannot listen on 192.0.2.1:0" in done.stderr
    assert "give --host one of its own addresses" in done.stderr
    assert "--port" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_a_run_that_cannot_serve_makes_no_workspace_token(
    workspace: Path, add_provider: Callable[..., Path]
) -> None:
    """The token is shown once, when made: a run that never served would make it unseen."""
    token_file = workspace / ".multichat" / "http-token"
    nothing = run_cli("run", "--transport", "http", "--port", "0", cwd=workspace)
    assert nothing.returncode != 0
    assert "no providers" in nothing.stderr
    add_provider("alpha")
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        in_use = run_cli("run", "-t", "http", "--port", str(taken.getsockname()[1]), cwd=workspace)
    assert in_use.returncode == 2
    assert "choose another --port" in in_use.stderr
    assert not token_file.exists()

    process = subprocess.Popen(  # now it serves: the token is made, and shown
        [MULTICHAT, "run", "--transport", "http", "--port", "0"],
        cwd=workspace,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_env(),
    )
    try:
        errors = LinePump(process.stderr)
        wait_for_line(errors, "serving MCP at", time.monotonic() + DEADLINE)
    finally:
        stop_process(process)
    assert token_file.read_text().strip() in "".join(errors.seen)


def test_reload_over_stdio_ends_when_the_client_closes_stdin(
    workspace: Path, add_provider: Callable[..., Path]
) -> None:
    add_provider("alpha")
    process = subprocess.Popen(
        [MULTICHAT, "run", "--reload"],
        cwd=workspace,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=clean_env(),
    )
    try:
        assert process.stdin is not None
        assert process.stdout is not None
        process.stdin.write(INITIALIZE_LINE)
        process.stdin.flush()
        assert '"result"' in process.stdout.readline()
        process.stdin.close()  # how an MCP client ends a stdio session
        code = process.wait(timeout=DEADLINE)  # the watcher used to outlive its server
    finally:
        stop_process(process)
    assert code == 0


def start_up_events(workspace: Path) -> list[dict]:
    """The JSON events ``run --json`` says on stderr up to ``serving``; then it is stopped."""

    with serving_http(workspace, "--json", "--port", "0") as (process, errors):
        wait_for_line(errors, '"event": "serving"', time.monotonic() + DEADLINE)
        process.send_signal(signal.SIGINT)
        process.wait(timeout=DEADLINE)
        seen = errors.join(DEADLINE)
    return [json.loads(text) for text in seen.splitlines() if text.strip()]


def test_two_providers_tools_served_under_one_name_are_one_warning(
    workspace: Path, add_provider: Callable[..., Path]
) -> None:
    add_provider("chat")
    folder = add_provider("chat_provider")
    (folder / "tools" / "info.py").write_text(CHAT_PROVIDER_INFO)

    events = start_up_events(workspace)

    warnings = [event["message"] for event in events if event["event"] == "warning"]
    assert warnings == [
        "chat_provider_info names both chat's tool provider_info and chat_provider's tool "
        "info: only chat's is served; rename one of the tools (@tool(name=...)) or one of the "
        "providers chat and chat_provider"
    ]


def test_a_misspelt_enabled_tools_entry_is_one_warning(
    workspace: Path, add_provider: Callable[..., Path]
) -> None:
    add_provider("alpha")
    set_provider_keys(workspace, "alpha", enabled_tools=["provider_inf"])

    events = start_up_events(workspace)

    warnings = [event["message"] for event in events if event["event"] == "warning"]
    assert warnings == [
        "`providers.alpha.enabled_tools` lists `provider_inf`, which is not a tool of alpha: it "
        "serves nothing; did you mean `provider_info`?"
    ]


def run_http(workspace: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``multichat run --transport http ARGS`` to its end, with the test's bearer token."""
    return subprocess.run(
        [MULTICHAT, "run", "--transport", "http", *args],
        cwd=workspace,
        capture_output=True,
        text=True,
        timeout=DEADLINE,
        env=clean_env(MULTICHAT_HTTP_TOKEN=HTTP_TOKEN),
        stdin=subprocess.DEVNULL,
        check=False,
    )
