"""A workspace that travels (issue 14): its own environment, FastMCP's CLI, a container, and
doctor's word on versions."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import MULTICHAT, clean_env, run_cli

from multichat import __version__

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def ws(workspace: Path, add_provider) -> Path:
    add_provider("alpha")
    return workspace


def test_fastmcps_own_cli_finds_the_server(ws: Path):
    fastmcp = str(Path(sys.executable).parent / "fastmcp")
    result = subprocess.run(
        [fastmcp, "inspect", "fastmcp.json", "--skip-env", "--format", "mcp"],
        cwd=ws,
        capture_output=True,
        text=True,
        timeout=120,
        env=clean_env(),
        check=False,
    )
    assert result.returncode == 0, result.stderr
    tools = {tool["name"] for tool in json.loads(result.stdout)["tools"]}
    assert tools == {"alpha_provider_info", "alpha_whoami"}


def test_doctor_names_the_environment_and_version_trouble(ws: Path):
    fine = run_cli("doctor", cwd=ws)
    assert f"provider-config.yaml: ok: multichat {__version__} in {sys.prefix}" in fine.stdout

    answers = ws / ".multichat" / "workspace.yml"
    answers.write_text(answers.read_text().replace(__version__, "0.1.0"))
    pyproject = ws / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace('"multichat-mcp>=', '"multichat>=0.1", "multichat-mcp>=')
    )
    troubled = run_cli("doctor", cwd=ws)
    assert f"the workspace was made by multichat 0.1.0, this is {__version__}" in troubled.stdout
    assert "requires `multichat`, which on PyPI is another project" in troubled.stdout
    assert troubled.returncode == 1


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("uv") is None, reason="needs uv")
def test_run_auth_and_doctor_hand_over_to_the_workspace_environment(ws: Path):
    """A CLI installed elsewhere (here: the test's) serves with the workspace's own .venv."""
    env = clean_env()
    env.pop("VIRTUAL_ENV", None)
    for command in (
        ["uv", "venv", "--quiet", "--python", sys.executable, ".venv"],
        ["uv", "pip", "install", "--quiet", "--python", ".venv/bin/python", "-e", str(REPO)],
    ):
        subprocess.run(command, cwd=ws, env=env, check=True, capture_output=True, timeout=300)
    own = ws / ".venv"

    doctor = run_cli("doctor", cwd=ws)
    assert f"ok: multichat {__version__} in {own}" in doctor.stdout, doctor.stdout

    status = run_cli("auth", "alpha", "--status", "--json", cwd=ws)
    assert json.loads(status.stdout)["provider"] == "alpha"

    # An environment without multichat: this one serves, unless the workspace pins another.
    (own / "bin" / "multichat").unlink()
    follows = run_cli("doctor", cwd=ws)  # the workspace installs multichat from this checkout
    assert follows.returncode == 2
    assert f"the workspace's environment {own} has no multichat, and it installs" in (
        follows.stderr
    )
    assert follows.stderr.rstrip().endswith(f"run `uv sync` in {ws}")
    pyproject = ws / "pyproject.toml"
    pyproject.write_text(re.sub(r"\[tool\.uv\.sources\]\n(.+\n)+", "", pyproject.read_text()))
    falls_back = run_cli("doctor", cwd=ws)
    assert falls_back.returncode == 0, falls_back.stderr
    assert f"ok: multichat {__version__} in {sys.prefix}" in falls_back.stdout
    assert falls_back.stderr.startswith(f"multichat: note: {own} has no multichat; using ")
    pyproject.write_text(
        re.sub(r'"multichat-mcp[^"]*"', '"multichat-mcp>=99"', pyproject.read_text())
    )
    pinned = run_cli("doctor", cwd=ws)
    assert pinned.returncode == 2
    assert f"and it requires multichat-mcp>=99, this is {__version__}" in pinned.stderr


def test_the_container_files_serve_over_http_with_tokens_on_a_volume(ws: Path, tmp_path: Path):
    dockerfile = (ws / "Dockerfile").read_text()
    assert "MULTICHAT_TOKEN_DIR=/tokens" in dockerfile
    assert "VOLUME /tokens" in dockerfile
    assert '"--transport", "http", "--host", "0.0.0.0"' in dockerfile
    # The comment's commands: the HTTP token comes from the shell, which keeps it for clients,
    # and `auth` runs multichat as CMD does (the uv image has no .venv/bin on PATH).
    comment = [
        line.removeprefix("#").strip() for line in dockerfile.splitlines() if line[:1] == "#"
    ]
    (serve,) = [line for line in comment if line.startswith("docker run -p")]
    assert " -e MULTICHAT_HTTP_TOKEN " in serve
    assert 'export MULTICHAT_HTTP_TOKEN="$(openssl rand' in "\n".join(comment)
    (sign_in,) = [
        line for line in comment if line.startswith("docker run") and " auth NAME" in line
    ]
    cmd = json.loads(dockerfile.split("\nCMD ", 1)[1])
    launcher = cmd[: cmd.index("multichat") + 1]
    assert sign_in.endswith(" my-chats " + " ".join([*launcher, "auth", "NAME"]))
    ignored = (ws / ".dockerignore").read_text().splitlines()
    for secret in ("**/token.json", "**/credentials.json", ".multichat/http-token", ".venv/"):
        assert secret in ignored
    from multichat.runtime.multi_user import PROXY_DIR
    from multichat.runtime.users import USERS_DIR

    assert f"{PROXY_DIR.as_posix()}/" in ignored  # the proxy's signing key and people's tokens
    assert f"{USERS_DIR.as_posix()}/" in ignored

    # What the image's CMD does, on loopback: no MULTICHAT_HTTP_TOKEN, no start off loopback...
    refused = run_cli("run", "--transport", "http", "--host", "0.0.0.0", cwd=ws)
    assert refused.returncode == 2
    assert "MULTICHAT_HTTP_TOKEN" in refused.stderr
    # ...and tokens live in MULTICHAT_TOKEN_DIR, outside the code.
    tokens = tmp_path / "tokens"
    status = subprocess.run(
        [MULTICHAT, "auth", "alpha", "--status", "--json"],
        cwd=ws,
        capture_output=True,
        text=True,
        timeout=60,
        env=clean_env(MULTICHAT_TOKEN_DIR=str(tokens)),
        check=False,
    )
    assert json.loads(status.stdout)["token_path"] == str(tokens / "alpha.json")


@pytest.mark.skipif(
    shutil.which("docker") is None
    or subprocess.run(["docker", "info"], capture_output=True, check=False).returncode != 0,
    reason="no container engine here (docker info fails); the files are checked above",
)
def test_the_image_builds(ws: Path):  # pragma: no cover - needs a container engine
    subprocess.run(["docker", "build", "-t", "multichat-test", "."], cwd=ws, check=True)
