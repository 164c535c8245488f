"""``multichat doctor`` with tokens in Redis (docs/deploy.md, "Tokens in Redis"): it checks the
store ``multichat run`` would use, found the same way, and says what ``run`` says when that
store cannot serve. Each check runs the installed console script, against a real
``redis-server`` (tests/support/redis_server.py) or a port nothing listens on.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import free_port, run_cli
from support.redis_server import RedisServer

ACCESS = "at-DOCTOR-never-shown-0001"
REFRESH = "rt-DOCTOR-never-shown-0001"
PASSWORD = "hunter2-doctor-secret"
NAMESPACE = "tests"
#: A team server's identity provider, as docs/deploy.md ("Configuration") writes it.
OIDC = "  auth:\n    oidc:\n      issuer: https://login.example.com/\n      client_id: team\n"


def configure(workspace: Path, url: str | None = None, *, oidc: bool = False) -> None:
    """Append a ``server:`` block: the Redis token store (``url``) and a team server's IdP."""
    block = "server:\n"
    if url is not None:
        block += f"  token_store:\n    url: {json.dumps(url)}\n    namespace: {NAMESPACE}\n"
    if oidc:
        block += OIDC
    path = workspace / "provider-config.yaml"
    path.write_text(path.read_text() + block)


def lines_of(output: str, subject: str, level: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith(f"{subject}: {level}: ")]


def redis_lines(output: str, provider: str) -> list[str]:
    """What doctor says of a provider's token in Redis."""
    return [
        line
        for line in output.splitlines()
        if line.startswith(f"{provider}: ") and "redis://" in line
    ]


def run_refusal(workspace: Path, env: dict[str, str]) -> str:
    """The one line ``multichat run`` stops on, without its ``multichat: error:`` prefix."""
    result = run_cli(
        "run", "--transport", "http", "--port", str(free_port()), cwd=workspace, env=env,
        timeout=60,
    )  # fmt: skip
    assert result.returncode == 1, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0].removeprefix("multichat: error: ")


def stale_token_file(folder: Path) -> Path:
    """A signed-in token file, which a workspace whose tokens are in Redis never reads."""
    token = folder / "token.json"
    token.write_text(json.dumps({"access_token": ACCESS, "refresh_token": REFRESH}))
    token.chmod(0o600)
    return token


@pytest.mark.parametrize("named_in", ["config", "environment"])
def test_redis_down_is_an_error_naming_the_masked_url_as_run_says_it(
    workspace: Path, add_provider: Callable[..., Path], named_in: str
) -> None:
    token = stale_token_file(add_provider("alpha"))
    port = free_port()
    url = f"redis://:{PASSWORD}@127.0.0.1:{port}/0"
    env = {"MULTICHAT_REDIS_URL": url} if named_in == "environment" else {}
    if named_in == "config":
        configure(workspace, url)

    doctor = run_cli("doctor", cwd=workspace, env=env)

    refusal = run_refusal(workspace, env)
    assert refusal.startswith(f"cannot reach Redis at redis://:***@127.0.0.1:{port}/0 ")
    assert lines_of(doctor.stdout, "redis", "error") == [f"redis: error: {refusal}"], doctor.stdout
    assert doctor.returncode == 1
    assert doctor.stdout.splitlines()[-1].startswith("1 provider(s): 1 error(s), ")
    assert str(token) not in doctor.stdout  # the file run never reads is not vouched for
    assert PASSWORD not in doctor.stdout + doctor.stderr
    assert ACCESS not in doctor.stdout + doctor.stderr
    assert "Traceback" not in doctor.stderr


def test_a_missing_redis_package_is_an_error_as_run_says_it(
    workspace: Path, add_provider: Callable[..., Path], redis_url: str, tmp_path: Path
) -> None:
    """The runtime knows the package is missing when ``import redis`` fails; so it fails here.

    ``sys.modules["redis"] = None`` makes that import raise ImportError, as an environment
    without the ``redis`` extra does (https://docs.python.org/3/reference/import.html#the-module-cache).
    """
    add_provider("alpha")
    site = tmp_path / "no-redis"
    site.mkdir()
    (site / "sitecustomize.py").write_text('import sys\nsys.modules["redis"] = None\n')
    env = {"MULTICHAT_REDIS_URL": redis_url, "PYTHONPATH": str(site)}  # Redis itself is up

    doctor = run_cli("doctor", cwd=workspace, env=env)

    refusal = run_refusal(workspace, env)
    assert "the redis package is missing" in refusal
    assert lines_of(doctor.stdout, "redis", "error") == [f"redis: error: {refusal}"], doctor.stdout
    assert doctor.returncode == 1
    assert "Traceback" not in doctor.stderr


def test_each_provider_says_whether_redis_holds_its_token_and_never_shows_one(
    workspace: Path,
    add_provider: Callable[..., Path],
    redis_server: RedisServer,
    redis_url: str,
) -> None:
    for name in ("alpha", "beta", "gamma", "delta"):
        add_provider(name)
    stale = stale_token_file(workspace / "src" / "providers" / "beta")
    configure(workspace, redis_url)
    client = redis_server.client(1)
    key = {
        name: f"multichat:{NAMESPACE}:{name}:-:token"
        for name in ("alpha", "beta", "gamma", "delta")
    }
    client.set(key["alpha"], json.dumps({"access_token": ACCESS, "refresh_token": REFRESH}))
    client.set(key["gamma"], json.dumps({"token_type": "Bearer", "user": {"name": "Ada"}}))
    client.set(key["delta"], '{"access_token": ')
    at = f"redis://:***@127.0.0.1:{redis_server.port}/1 key"

    doctor = run_cli("doctor", cwd=workspace)

    out = doctor.stdout
    assert lines_of(out, "redis", "ok") == [
        f"redis: ok: tokens are kept in Redis at redis://:***@127.0.0.1:{redis_server.port}/1"
    ], out
    assert redis_lines(out, "alpha") == [
        f"alpha: note: Redis holds its token ({at} {key['alpha']})"
    ]
    assert redis_lines(out, "beta") == [
        f"beta: warning: not signed in (no token in Redis at {at} {key['beta']}; sign-in mode: "
        "oauth); fix: `multichat auth beta`"
    ], out
    assert str(stale) not in out
    assert redis_lines(out, "gamma") == [
        f"gamma: warning: the token in Redis at {at} {key['gamma']} holds no access_token: gamma "
        "counts as not signed in; fix: `multichat auth gamma` signs in again and replaces it"
    ], out
    assert redis_lines(out, "delta") == [
        f"delta: error: the token at {at} {key['delta']} is not valid JSON; delete it and "
        "authenticate again; fix: `multichat auth delta` replaces it"
    ], out
    assert doctor.returncode == 1
    assert ACCESS not in out + doctor.stderr
    assert REFRESH not in out + doctor.stderr
    assert redis_server.password not in out + doctor.stderr


def test_on_a_team_server_no_shared_token_in_redis_points_each_person_to_their_link(
    workspace: Path, add_provider: Callable[..., Path], redis_server: RedisServer, redis_url: str
) -> None:
    add_provider("alpha")
    configure(workspace, redis_url, oidc=True)

    doctor = run_cli("doctor", cwd=workspace)

    key = f"multichat:{NAMESPACE}:alpha:-:token"
    assert lines_of(doctor.stdout, "alpha", "note") == [
        f"alpha: note: no token in Redis at redis://:***@127.0.0.1:{redis_server.port}/1 key "
        f"{key}, and none is needed: on a team server (server.auth.oidc) a shared token serves "
        "nobody; fix: each person signs in through the link their first call to one of alpha's "
        'tools returns (docs/deploy.md, "One server for a team")'
    ], doctor.stdout
    assert "multichat auth alpha" not in doctor.stdout
    assert doctor.returncode == 0, doctor.stdout
