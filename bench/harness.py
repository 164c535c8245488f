"""Measuring: alternate ours and the baseline in the same run, report medians, spread, ratios."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Stats:
    """Median, min and max of repeated measurements."""

    median: float
    low: float
    high: float
    runs: int

    @classmethod
    def of(cls, values: Sequence[float]) -> Stats:
        return cls(statistics.median(values), min(values), max(values), len(values))


@dataclass
class Result:
    """One line of the table."""

    name: str
    measure: str
    unit: str
    ours: Stats
    baseline: Stats | None = None
    baseline_label: str = ""
    ratio: Stats | None = None
    target: str = ""
    passed: bool | None = None
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def alternate(
    ours: Callable[[], float], baseline: Callable[[], float], rounds: int, warmup: int = 1
) -> tuple[list[float], list[float], list[float]]:
    """Run ours and the baseline in turn (A B A B ...); ratios are taken pair by pair."""
    for _ in range(warmup):
        ours()
        baseline()
    a_values, b_values, ratios = [], [], []
    for _ in range(rounds):
        a = ours()
        b = baseline()
        a_values.append(a)
        b_values.append(b)
        ratios.append(a / b if b else float("inf"))
    return a_values, b_values, ratios


def timed_process(
    argv: Sequence[str], cwd: Path | None = None, env: dict[str, str] | None = None
) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of one child process, from the kernel's own accounting."""
    started = time.perf_counter()
    process = subprocess.Popen(
        list(argv),
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {process.returncode}")
    return elapsed, int(usage.ru_maxrss)


def peak_rss_kib(pid: int) -> int:
    """A running process's peak resident memory (VmHWM), in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a running process has used so far, in seconds.

    Beside wall time on a shared machine: it grows with the work done, not with the waiting.
    """
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def slope(points: Sequence[tuple[float, float]]) -> float:
    """Least-squares slope of ``(x, y)`` points: y's growth per unit of x."""
    mean_x = statistics.fmean(x for x, _ in points)
    mean_y = statistics.fmean(y for _, y in points)
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / spread


def machine() -> str:
    """One line about where this ran."""
    cpus = os.cpu_count()
    system = f"{platform.system()} {platform.release()}"
    return f"{platform.machine()}, {cpus} CPU(s), {system}, Python {platform.python_version()}"


def format_table(results: list[Result]) -> str:
    """A Markdown table: measure, ours, baseline, ratio, target, result."""
    rows = [
        "| measure | ours (median, min-max) | baseline | ratio | target | result |",
        "|---|---|---|---|---|---|",
    ]
    for result in results:
        ours = _stats(result.ours, result.unit)
        base = (
            f"{_stats(result.baseline, result.unit)} ({result.baseline_label})"
            if result.baseline
            else result.baseline_label
        )
        ratio = (
            f"{result.ratio.median:.2f}x ({result.ratio.low:.2f}-{result.ratio.high:.2f})"
            if result.ratio
            else ""
        )
        verdict = {True: "pass", False: "FAIL", None: "report"}[result.passed]
        if result.note:
            verdict += f": {result.note}"
        rows.append(
            f"| {result.measure} | {ours} | {base} | {ratio} | {result.target} | {verdict} |"
        )
    return "\n".join(rows)


def _stats(stats: Stats | None, unit: str) -> str:
    if stats is None:
        return ""
    scale, suffix = _scale(stats.median, unit)
    return (
        f"{_number(stats.median * scale)} {suffix} "
        f"({_number(stats.low * scale)}-{_number(stats.high * scale)})"
    )


def _number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"


def _scale(value: float, unit: str) -> tuple[float, str]:
    if unit != "s":
        return 1.0, unit
    if value < 1e-3:
        return 1e6, "µs"
    if value < 1:
        return 1e3, "ms"
    return 1.0, "s"
