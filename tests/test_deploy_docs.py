"""docs/deploy.md's files are checked where it is cheap: the compose file parses and names the
services, the Caddyfile spreads over both instances, the systemd unit parses, and every
``multichat run`` option they use is one the command has.
"""

from __future__ import annotations

import configparser
import re
import shlex
from pathlib import Path
from typing import Any

import typer.main
import yaml

from multichat.cli.app import app

DEPLOY = Path(__file__).resolve().parent.parent / "docs" / "deploy.md"


def _block(first_line: str) -> str:
    """The fenced block of docs/deploy.md whose first line is ``first_line``."""
    for body in re.findall(r"^```\w*\n(.*?)^```", DEPLOY.read_text(), re.MULTILINE | re.DOTALL):
        if body.splitlines()[0] == first_line:
            return str(body)
    raise AssertionError(f"no block starting with {first_line!r} in {DEPLOY}")


def _run_options() -> set[str]:
    group = typer.main.get_command(app)
    command = group.commands["run"]  # type: ignore[attr-defined]
    return {option for param in command.params for option in param.opts}


def _check_run(args: list[str]) -> None:
    start = next(i for i, arg in enumerate(args) if Path(arg).name == "multichat")
    assert args[start + 1] == "run", args
    rest = args[start + 2 :]
    assert rest[:3] == ["--transport", "http", "--stateless"], rest
    unknown = {arg for arg in rest if arg.startswith("--")} - _run_options()
    assert unknown == set()


def test_the_compose_file_has_two_instances_redis_and_a_proxy():
    compose: dict[str, Any] = yaml.safe_load(_block("# compose.yaml"))
    services = compose["services"]
    assert set(services) == {"redis", "multichat-1", "multichat-2", "caddy"}
    for name in ("multichat-1", "multichat-2"):
        service = services[name]
        _check_run(service["command"])
        url = service["environment"]["MULTICHAT_REDIS_URL"]
        assert url.startswith("redis://:${REDIS_PASSWORD}@redis:6379/")
        assert "redis" in service["depends_on"]
    assert "--requirepass" in services["redis"]["command"]


def test_the_proxy_spreads_requests_over_both_instances():
    caddyfile = _block("# Caddyfile: TLS for mcp.example.com, requests spread over both instances")
    assert "reverse_proxy multichat-1:8000 multichat-2:8000" in caddyfile


def test_the_systemd_unit_runs_the_http_server():
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(_block("# /etc/systemd/system/multichat@.service"))
    assert set(parser.sections()) == {"Unit", "Service", "Install"}
    service = parser["Service"]
    assert "multichat run --transport http" in service["ExecStart"]
    _check_run(shlex.split(service["ExecStart"]))
    assert service["EnvironmentFile"] == "/etc/multichat/env"
    assert parser["Install"]["WantedBy"] == "multi-user.target"
