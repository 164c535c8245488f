"""The built wheel carries the template: a fresh venv can make a workspace and serve it."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from e2e_support import (
    DEADLINE,
    stdio_client,
    tool_names,
)
from helpers import clean_env

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("uv") is None, reason="needs uv"),
]

REPO = Path(__file__).resolve().parents[2]


def _run(args, cwd, timeout=3 * DEADLINE):
    env = clean_env()
    env.pop("VIRTUAL_ENV", None)
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
    return result


async def test_wheel_installs_and_generates(tmp_path):
    dist = tmp_path / "dist"
    _run(["uv", "build", "--wheel", "--out-dir", str(dist)], cwd=REPO)
    (wheel,) = dist.glob("multichat-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    assert "multichat/_template/copier.yml" in names
    assert "multichat/_template/template/workspace/provider-config.yaml" in names
    provider = "multichat/_template/template/provider/src/providers/{{ provider_name }}/"
    for contract in ("mcp_instance.py.jinja", "server_auth.py.jinja", "api/auth.py.jinja"):
        assert provider + contract in names
    assert not any("__pycache__" in name for name in names)

    venv = tmp_path / "venv"
    _run(["uv", "venv", "--quiet", "--python", sys.executable, str(venv)], cwd=tmp_path)
    _run(
        ["uv", "pip", "install", "--quiet", "--python", str(venv / "bin/python"), str(wheel)],
        cwd=tmp_path,
    )
    multichat = str(venv / "bin" / "multichat")

    _run([multichat, "init", "my-chats"], cwd=tmp_path)
    ws = tmp_path / "my-chats"
    # The package named multichat on PyPI is another project: the workspace installs this one
    # from the wheel the running multichat came from.
    assert f'multichat = {{ path = "{wheel}" }}' in (ws / "pyproject.toml").read_text()
    _run([multichat, "new", "provider", "alpha"], cwd=ws)
    assert (ws / "src/providers/alpha/mcp_instance.py").is_file()

    async with stdio_client(multichat, ["run"], ws, log_file=tmp_path / "stderr.log") as client:
        assert await tool_names(client) == ["alpha_provider_info", "alpha_whoami"]
