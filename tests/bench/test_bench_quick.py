"""The benchmark suite still runs: ``python -m bench --quick``, one round each, no time asserted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def test_quick_run_measures_every_benchmark(tmp_path: Path):
    listed = subprocess.run(
        [sys.executable, "-c", "from bench.cases import CASES; print(' '.join(CASES))"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    cases = set(listed.stdout.split())
    assert len(cases) >= 10
    out = tmp_path / "bench.json"
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["errors"] == []
    names = {row["name"] for row in report["results"]}
    assert cases <= names
    assert "| measure |" in result.stdout
    for row in report["results"]:
        assert row["ours"]["median"] > 0, row["name"]
        if row["baseline"] is not None and row["target"] != "report":
            assert row["ratio"] is not None, row["name"]
    refresh = next(row for row in report["results"] if row["name"] == "refresh_once")
    assert refresh["ours"]["median"] == 1  # a count, not a time: exactly one refresh request
