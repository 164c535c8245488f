"""The console script starts light: `--help` and `--version` work without Copier or FastMCP."""

import re
import subprocess
import sys

import pytest
from e2e_support import DEADLINE
from helpers import clean_env, run_cli

pytestmark = pytest.mark.e2e

HEAVY = ("copier", "fastmcp", "mcp", "fastapi", "uvicorn")


def test_version(tmp_path):
    result = run_cli("--version", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert re.fullmatch(r"multichat \d+\.\d+\.\d+\S*\n", result.stdout), result.stdout


def test_help_lists_the_commands(tmp_path):
    result = run_cli("--help", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    for command in ("init", "new", "run", "doctor"):
        assert re.search(rf"^\s+{command}\b", result.stdout, re.MULTILINE), result.stdout


@pytest.mark.parametrize("args", [("new", "provider", "--help"), ("run", "--help")])
def test_command_help(tmp_path, args):
    result = run_cli(*args, cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout


@pytest.mark.parametrize("command", ["run", "doctor"])
def test_outside_a_workspace_is_one_line(tmp_path, command):
    result = run_cli(command, cwd=tmp_path)

    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "multichat init" in lines[0]
    assert "--config" in lines[0]


def _python(code, *flags):
    return subprocess.run(
        [sys.executable, *flags, "-c", code],
        capture_output=True,
        text=True,
        timeout=DEADLINE,
        env=clean_env(),
        check=True,
    )


def test_importing_the_cli_leaves_heavy_libraries_alone():
    result = _python("import multichat.cli", "-X", "importtime")

    imported = set()
    for line in result.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            imported.add(line.rsplit("|", 1)[1].strip())
    assert "multichat.cli" in imported
    heavy = sorted(name for name in imported if name.split(".")[0] in HEAVY)
    assert heavy == []


def test_sys_modules_after_importing_the_cli():
    code = (
        "import sys, multichat.cli\n"
        "print('\\n'.join(sorted({name.split('.')[0] for name in sys.modules})))\n"
    )
    loaded = set(_python(code).stdout.split())

    assert "multichat" in loaded
    assert loaded.isdisjoint(HEAVY), sorted(loaded & set(HEAVY))
