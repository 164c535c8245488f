"""Bad input: malformed MCP messages, hostile arguments and a hostile provider-config.yaml.

Each gets a clear error and changes nothing: the sandbox's chat data and the files around the
workspace are compared before and after, and the server answers a normal call afterwards.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from fastmcp import Client
from fastmcp.exceptions import ToolError
from helpers import file_tree, run_cli
from security_support import (
    PROVIDER,
    RawStdioSession,
    chat_snapshot,
    tool_error_text,
)

from multichat.errors import ConfigError
from multichat.runtime import build_server, load_config

FIVE_MB = "x" * (5 * 1024 * 1024)
TRAVERSAL = "../../etc/passwd"

#: (tool, arguments, a phrase the error must contain): hostile arguments of every shape.
HOSTILE_CALLS: list[tuple[str, dict[str, Any], str]] = [
    ("nope", {}, "Unknown tool: 'chat_nope'"),
    ("list_channels", {"limit": "lots"}, "limit"),
    ("list_channels", {"limit": 10_000}, "less than or equal to 200"),
    ("list_channels", {"types": "public"}, "types"),
    ("send_message", {"channel_id": ["C01"], "text": "hi"}, "channel_id"),
    ("send_message", {"channel_id": "C01"}, "text"),
    ("send_message", {"channel_id": "C01", "text": FIVE_MB}, "at most 100000 characters"),
    ("search_messages", {"query": FIVE_MB}, "at most 500 characters"),
    ("get_channel_history", {"channel_id": FIVE_MB}, "the URL would be over 8192 characters"),
    ("get_channel_history", {"channel_id": TRAVERSAL}, "refused GET 'channels/../../etc/passwd"),
    ("send_message", {"channel_id": TRAVERSAL, "text": "hi"}, "refused POST"),
    ("send_message", {"channel_id": "C01?x=", "text": "hi"}, "refused POST"),
    ("get_thread", {"message_id": TRAVERSAL}, "refused GET 'messages/../../etc/passwd'"),
    ("edit_message", {"message_id": TRAVERSAL, "text": "hi"}, "refused PATCH"),
    ("delete_message", {"message_id": "../../../oauth/revoke"}, "refused DELETE"),
    ("delete_message", {"message_id": "%2e%2e%2f%2e%2e%2fadmin"}, "refused DELETE"),
    ("add_reaction", {"message_id": "M322", "emoji": "../../x"}, "pattern"),
    ("add_reaction", {"message_id": "..\\..\\M1", "emoji": "eyes"}, "refused POST"),
]


# ---- hostile tool calls ----------------------------------------------------------------------


async def test_hostile_arguments_in_memory_get_clear_errors_and_change_nothing(
    chat_workspace, sandbox
):
    before = chat_snapshot(sandbox.app.state.db)
    around = file_tree(chat_workspace.parent)
    server, report = build_server(load_config(chat_workspace / "provider-config.yaml"))
    assert report.failures == []
    errors: list[str] = []
    async with Client(server) as client:
        for tool, arguments, phrase in HOSTILE_CALLS:
            with pytest.raises(ToolError) as refused:
                await client.call_tool(f"{PROVIDER}_{tool}", arguments)
            errors.append(str(refused.value))
            assert phrase in errors[-1], (tool, errors[-1][:300])
        channels = await client.call_tool(f"{PROVIDER}_list_channels", {})

    assert chat_snapshot(sandbox.app.state.db) == before
    assert file_tree(chat_workspace.parent) == around
    assert len(channels.structured_content["channels"]) == 7
    assert all(len(error) < 2000 for error in errors)


def test_malformed_and_hostile_json_rpc_over_stdio_changes_nothing(chat_workspace, sandbox):
    before = chat_snapshot(sandbox.app.state.db)
    around = file_tree(chat_workspace.parent)
    with RawStdioSession(chat_workspace) as session:
        session.initialize()
        for line in (
            "this is not JSON",
            '{"jsonrpc": "2.0", "id": 900, "method": ',
            "[1, 2, 3]",
            '{"jsonrpc": "2.0", "id": 901}',
            '{"id": 902, "method": "tools/list"}',
            "\x00\xff" * 10,
        ):
            session.send_line(line)
        unknown_method = session.request("no/such/method", {})
        not_an_object = session.request(
            "tools/call", {"name": f"{PROVIDER}_list_channels", "arguments": [1]}
        )
        no_name = session.request("tools/call", {"arguments": {}})
        answers = [session.call_tool(f"{PROVIDER}_{tool}", args) for tool, args, _ in HOSTILE_CALLS]
        oversize_line = session.call_tool(
            f"{PROVIDER}_get_channel_history", {"channel_id": FIVE_MB * 2}
        )
        still = session.call_tool(f"{PROVIDER}_list_channels", {})
        pong = session.request("ping")
    lines = [json.loads(line) for line in session.stdout_text.splitlines()]

    assert unknown_method["error"]["code"] == -32601
    assert not_an_object["error"]["code"] == -32602
    assert no_name["error"]["code"] == -32602
    for (tool, _, phrase), answer in zip(HOSTILE_CALLS, answers, strict=True):
        assert phrase in tool_error_text(answer), (tool, tool_error_text(answer)[:300])
    assert "the URL would be over 8192 characters" in tool_error_text(oversize_line)
    assert len(still["result"]["structuredContent"]["channels"]) == 7
    assert pong["result"] == {}
    # Each line that is not a JSON-RPC message gets a parse error with a null id (JSON-RPC 2.0),
    # answered by multichat's stdio reader (the SDK alone would drop them in silence).
    parse_errors = [line for line in lines if line.get("id") is None and "error" in line]
    assert len(parse_errors) == 6, parse_errors
    assert {line["error"]["code"] for line in parse_errors} == {-32700}
    assert all(line.get("id") not in (900, 901, 902) or "error" in line for line in lines)
    assert session.process.returncode == 0
    assert "Traceback" not in session.stderr_text
    assert chat_snapshot(sandbox.app.state.db) == before
    assert file_tree(chat_workspace.parent) == around


# ---- a hostile provider-config.yaml ------------------------------------------------------


def write_config(folder: Path, body: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "provider-config.yaml"
    path.write_text(body)
    return path


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("token_path", "../outside/token.json"),
        ("token_path", "src/../../outside/token.json"),
        ("credentials_path", "../../../etc/credentials.json"),
    ],
)
def test_a_relative_secret_path_leaving_the_workspace_is_refused_at_load(tmp_path, key, value):
    path = write_config(tmp_path / "ws", f"providers:\n  alpha:\n    name: A\n    {key}: {value}\n")

    with pytest.raises(ConfigError) as refused:
        load_config(path)

    message = str(refused.value)
    assert message.startswith(f"{path.resolve()}:4: `providers.alpha.{key}`: {value!r}"), message
    assert "outside the workspace" in message
    assert "absolute path" in message


def test_a_relative_path_through_a_symlink_out_of_the_workspace_is_refused(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "tokens").symlink_to(outside, target_is_directory=True)
    path = write_config(workspace, "providers:\n  alpha:\n    token_path: tokens/alpha.json\n")

    with pytest.raises(ConfigError, match=r":3: `providers.alpha.token_path`"):
        load_config(path)


def test_absolute_home_and_inside_paths_are_accepted(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    elsewhere = tmp_path / "elsewhere" / "token.json"
    path = write_config(
        tmp_path / "ws",
        "providers:\n"
        f"  alpha: {{token_path: {elsewhere}, credentials_path: ~/creds.json}}\n"
        "  beta: {token_path: secrets/../secrets/beta.json}\n",
    )

    config = load_config(path)

    assert config.token_path("alpha") == elsewhere
    assert config.credentials_path("alpha") == tmp_path / "home" / "creds.json"
    assert config.token_path("beta").resolve() == (tmp_path / "ws" / "secrets" / "beta.json")


def test_multichat_run_refuses_an_escaping_token_path_in_one_line(tmp_path):
    path = write_config(tmp_path / "ws", "providers:\n  alpha:\n    token_path: ../../t.json\n")

    result = run_cli("run", cwd=path.parent, timeout=60)

    assert result.returncode == 2  # a broken config is bad input (docs/cli.md)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"{path.resolve()}:3: `providers.alpha.token_path`" in lines[0]
    assert result.stdout == ""


def test_yaml_tags_that_construct_objects_are_never_executed(tmp_path):
    marker = Path("/tmp") / f"pwned-{uuid.uuid4().hex}"
    command = f'["touch {marker}"]'
    hostile = {
        "in a provider value": (
            f"providers:\n  alpha:\n    name: !!python/object/apply:os.system {command}\n"
        ),
        "in an unknown top-level key": (
            f"extra: !!python/object/apply:os.system {command}\nproviders:\n  alpha: {{name: A}}\n"
        ),
        "as new": (
            f"providers:\n  alpha:\n    description: !!python/object/new:os.system {command}\n"
        ),
        "as the providers block": f"providers: !!python/object/apply:os.system {command}\n",
        "as a name": "providers:\n  alpha:\n    description: !!python/name:os.system\n",
    }
    outcomes: dict[str, str] = {}
    for number, (case, body) in enumerate(hostile.items()):
        path = write_config(tmp_path / f"ws{number}", body)
        try:
            config = load_config(path)
        except ConfigError as exc:
            outcomes[case] = str(exc)
        else:
            outcomes[case] = f"loaded: {dict(config.raw)}"
        if number < 2:  # the CLI reads the file the same way; two cases show it
            doctor = run_cli("doctor", cwd=path.parent, timeout=60)
            assert "Traceback" not in doctor.stderr, doctor.stderr

    assert not marker.exists()
    assert outcomes["in a provider value"].endswith(
        ":3: `providers.alpha.name`: Input should be a valid string"
    )
    assert outcomes["in an unknown top-level key"] == "loaded: {'alpha': {'name': 'A'}}"
    assert "`providers` must be a mapping" in outcomes["as the providers block"]
    root = str(tmp_path.resolve())
    assert all(text.startswith((root, "loaded: ")) for text in outcomes.values()), outcomes
