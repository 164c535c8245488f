"""``uv run python -m bench [--quick] [--json FILE] [--only NAME ...] [--write-docs]``."""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import time
import traceback
from pathlib import Path

from bench.cases import CASES
from bench.harness import Result, format_table, machine

DOCS = Path(__file__).resolve().parent.parent / "docs" / "performance.md"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="one round each (for tests)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds per benchmark")
    parser.add_argument("--only", action="append", choices=sorted(CASES), help="run only these")
    parser.add_argument("--json", type=Path, help="also write the results as JSON")
    parser.add_argument("--write-docs", action="store_true", help=f"rewrite {DOCS.name}")
    args = parser.parse_args(argv)
    rounds = 1 if args.quick else args.rounds
    results: list[Result] = []
    failed: list[str] = []
    started = time.monotonic()
    for name in args.only or list(CASES):
        print(f"running {name} ...", file=sys.stderr, flush=True)
        try:
            results.extend(CASES[name](rounds))
        except Exception:  # one broken benchmark must not hide the others' figures
            traceback.print_exc()
            failed.append(name)
    table = format_table(results)
    header = f"{machine()}; {rounds} round(s) each; {time.monotonic() - started:.0f} s in all"
    print(header)
    print(table)
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "machine": machine(),
                    "rounds": rounds,
                    "results": [r.as_dict() for r in results],
                    "errors": failed,
                },
                indent=2,
            )
        )
    if args.write_docs:
        _write_docs(header, table)
    if failed:
        print(f"benchmarks that did not run: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def _write_docs(header: str, table: str) -> None:
    today = datetime.date.today().isoformat()
    DOCS.write_text(
        "# Performance\n\n"
        "Every figure is measured next to its baseline in the same run (alternating rounds,\n"
        "median with min-max), so ratios hold across machines. Regenerate with\n"
        "`uv run python -m bench --write-docs`.\n\n"
        f"Last run {today} on {header}.\n\n{table}\n\n{NOTES}"
    )


NOTES = """## Notes

- **Issue 19, where each target stands** (this table, 2026-12-02): 50 providers start at 1.11x
  of one (target 1.3x, met), their memory 1.14x (target 1.5x, met), a tool call over HTTP 1.07x
  the bare GET (target 1.2x, met), `new provider` 1.12x plain Copier and 1.73x for the first of
  a kind (targets 1.2x and 2x, met); **the curve's slope is 5.4 ms per extra provider, 0.4 ms
  (8%) over its 5 ms target** (CPU 5.0 ms a provider). The profile of that slope is in the next
  note; no single part of it is larger than 1.5 ms.
- **Many providers start like one** (issue 19). 50 providers (753 tools) start at 0.93x-1.29x of
  one across runs on 2026-12-01 (target 1.3x; it was 3.2x): each distinct tool's schemas are
  built once per process and shared by every provider of a preset (`runtime/tool_schemas.py`,
  `tools/list` byte-identical, pinned by a test), `$ref`s are inlined once per schema
  (`runtime/dereference.py`), the collector is paused while providers load and frozen after, and
  a `provider-config.yaml` that read cleanly is cached by content. The curve's slope was 5.4-7.9
  ms per extra provider; it is 4.8-5.6 ms across five runs since (one more gave 6.0 ms; target 5
  ms: at the line, not reliably under it on this shared machine; 5.4 ms in this table). What
  changed: the chat tools' argument types are module constants, and a closure is recognised by
  its code and the identity of its annotations and defaults, so telling whether a provider's
  tool can share the first one's schemas no longer compares every `Field` (`build_server` for
  200 providers: 840-855 ms of CPU, was 1,030-1,210 ms). Per provider what is left, from
  `cProfile` of `build_server` over 200 providers and of one `tools/list`: importing its seven
  modules (1-1.5 ms), FastMCP's `add_tool` and server set-up (about 1 ms: each tool's input
  schema is converted again to seed FastMCP's header-validation cache, and each server's MCP
  request state derives a key with HKDF), our registration (0.8 ms), and its share of
  `tools/list` (about 0.8 ms: the MCP SDK turns the answer into Python objects and then into
  JSON, two passes over 23 KB a provider). The rows run with bytecode cached
  (`PYTHONPYCACHEPREFIX`): this machine sets `PYTHONDONTWRITEBYTECODE=1`, which otherwise
  recompiles every provider on every start.
- **A call costs the same with 50 providers** (`tools_call_50`): FastMCP's aggregate asked every
  provider for the tool, a task each, on every call (4.2x the one-provider call at 50
  providers); `runtime/namespaces.py` finds it by its prefix (1.02x, 0.95x in another run).
- **`new provider`** imports what it generates before writing (issue 5), in a child process;
  passing results are cached. The child now starts as the command begins, before Typer and the
  workspace load (it started about 0.3 s in, after the verdict's key was known; a command that
  finds a passing verdict stops it at once). The first provider of a kind: 1.73x-1.83x in three
  runs on 2026-12-02 (target 2x; it was 1.93x-2.22x), the child's import of FastMCP, the MCP SDK
  and FastAPI (about 1.5-2 s of wall time here) overlapping Copier's render. Steady state
  1.12x-1.20x in those runs (1.00x-1.26x before; an A/B with the early start turned off gave
  1.20x-1.27x, so the stopped child costs nothing measurable here). In this machine's
  environment (`PYTHONDONTWRITEBYTECODE=1`) both sides compile from source; with bytecode cached
  on both sides, as Python does by default, Copier gains more than we do (the two `bytecode
  cached` rows: 1.28x-1.45x steady, 2.6x-3x first of a kind): Typer's import (about 170 ms) and
  our own reads and checks stay. Caching the child's bytecode in multichat's cache folder was
  tried and left out: its first run wrote the standard library's bytecode too (5.3 s), and later
  checks saved only 0.2-0.3 s in this venv.
- **1-provider start** sits around the 1.1x line (0.95x-1.23x across runs, 1.04x at 7 rounds,
  1.12x in this table); `python -X importtime` puts what is left in Typer (about 30 ms),
  pydantic's config models (25 ms), ruamel.yaml (12 ms, skipped when the config cache hits) and
  filelock (12 ms; it stays imported at start: imported on first use it failed in the
  read-only-folder test, whose child drops to another user).
- **In-memory tool calls** are 0.83x-1.08x of a bare FastMCP server across runs on 2026-12-01
  (1.01x-1.05x in the last three). Single runs spread 0.7x-1.2x here.
- **A tool call over HTTP** against the sandbox in its own process: 1.07x-1.29x the same GET on
  a kept-alive client across seven runs (five under 1.2x, 1.07x in this table; target 1.2x; it
  was 1.31x-1.57x). Chat tools now return their result serialised once (`chat/tool_results.py`:
  FastMCP made JSON text, JSON and back, then text again, about 210 µs for 20 messages, against
  60 µs), and `PlatformClient` builds each URL whole, so httpx parses one URL a request instead
  of three (its own CPU over raw httpx2: 0.15 ms, was 0.29 ms). What is left per call: FastMCP's
  call path (middleware chain, tool lookup, telemetry span, argument validation, about 0.8 ms of
  CPU here), our 20 message models (0.07 ms). The baseline GET itself moves 4.4-6.6 ms between
  runs (the sandbox shares the 2 CPUs), hence the spread.
- **Warm `get_credentials()`** is 0.33-0.55 µs (target 2 µs): 0.17 µs before the person-per-call
  lookup of the multi-user mode (a context variable and a slot per person).
- **`catch_up`** fetches each channel's read marker and latest page together (0.18x-0.21x).
  **Matrix `catch_up`** runs against a real Synapse with 100 ms added to every request.
- **The inbox** (issue 21) answers from three platforms in what the slowest one takes
  (1.08x-1.17x across runs; with a fresh event loop each round, about 1.5x, as three `catch_up`
  calls made at once by a client: three sandboxes opening some 40 connections at once on 2
  CPUs).
- **What the tools cost in context** (issue 22): every chat preset is under 700 bytes a tool
  (614-635) since result schemas are opt-in and listings leave out what says nothing
  (FastMCP's tags, contradictory null defaults); docs/context.md has
  the figures.
- **Team load** (issue 23): 16 MCP clients on two `--stateless` instances against one; on 2 CPUs
  the clients share the cores with both servers, so the p50/p99 ratio is the figure.
- **Slack against its peers** (`uv run python -m bench.slack_peers`, outside the suite) is in
  `docs/platforms/slack.md`, with what each MCP stack costs a call on its own
  (`uv run python -m bench.stdio_frameworks`: FastMCP, the MCP Python SDK, Node's SDK).
- **`--version`** is answered before Typer is imported.

"""


if __name__ == "__main__":
    raise SystemExit(main())
