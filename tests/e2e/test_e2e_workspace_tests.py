"""The tests that `multichat init` and `multichat new provider` write pass as generated."""

import subprocess
import sys

import pytest
from e2e_support import DEADLINE
from helpers import clean_env

pytestmark = pytest.mark.e2e


def test_generated_workspace_tests_pass(copy_workspace):
    ws = copy_workspace()

    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rA", "-p", "no:cacheprovider"],
        cwd=ws,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=3 * DEADLINE,
        env=clean_env(),
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    passed = [line for line in result.stdout.splitlines() if line.startswith("PASSED ")]
    for folder in ("tests/test_workspace.py", "tests/providers/alpha/", "tests/providers/beta/"):
        assert any(folder in line for line in passed), result.stdout
