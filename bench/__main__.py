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

- **Many providers start like one** (issue 19). 50 providers (753 tools) start at 1.09x-1.29x
  of one across runs on 2026-12-01 (target 1.3x; it was 3.2x): each distinct tool's schemas
  are built once per process and shared by every provider of a preset (`runtime/tool_schemas.py`,
  `tools/list` byte-identical, pinned by a test), `$ref`s are inlined once per schema
  (`runtime/dereference.py`), the collector is paused while providers load and frozen after,
  and a `provider-config.yaml` that read cleanly is cached by content. The curve's slope is
  5.4-7.9 ms per extra provider across runs (6.5 ms in the table; target 5 ms): per provider,
  importing its seven modules (1-1.5 ms), registering 15 tools (about 2 ms), FastMCP's
  bookkeeping per `add_provider`, and its 23 KB share of `tools/list`, which the MCP SDK
  validates and serialises. The rows run with bytecode cached (`PYTHONPYCACHEPREFIX`): this
  machine sets `PYTHONDONTWRITEBYTECODE=1`, which otherwise recompiles every provider on every
  start.
- **`new provider`** imports what it generates before writing (issue 5), in a child process;
  passing results are cached, so the target row is the steady state (1.14x-1.21x in A/B runs
  on 2026-12-01) and the row under it the first provider of a kind (1.63x with bytecode in the
  environment, 2.06x-2.41x in today's full runs, up to 3.75x without: the child compiles
  FastMCP, the MCP SDK and FastAPI; it no longer forces `PYTHONDONTWRITEBYTECODE`). A row
  measured while anything else runs on the machine doubles; read the spread.
- **1-provider start** sits at or under the 1.1x line (0.95x-1.21x across runs); `python -X
  importtime` puts what is left in Typer (about 30 ms), pydantic's config models (25 ms),
  ruamel.yaml (12 ms, skipped when the config cache hits) and filelock (12 ms; it stays
  imported at start: imported on first use it failed in the read-only-folder test, whose child
  drops to another user).
- **In-memory tool calls** are 0.83x-1.08x of a bare FastMCP server across six runs on 2026-12-01;
  the previous stop's code gave 0.92x-0.98x in the same minutes (A/B). Single runs spread
  0.7x-1.2x here, so the difference is within the noise but may be the new middleware's small
  cost: watch it.
- **A tool call over HTTP** against the sandbox in its own process costs 1.31x-1.57x the same
  GET on a kept-alive client (target 1.2x). Per call: FastMCP's call path about 0.6 ms
  (validation, middleware, the result serialised twice), our 20 message models 0.19 ms,
  `PlatformClient` 0.1 ms over raw httpx2. One pool per provider per event loop and the config
  read once per process (one `stat` a call) are in place.
- **Warm `get_credentials()`** is 0.55 µs (target 2 µs): 0.17 µs at the last stop; the
  person-per-call lookup of the multi-user mode (a context variable and a slot per person) is
  the difference.
- **`catch_up`** fetches each channel's read marker and latest page together (0.18x-0.21x).
  **Matrix `catch_up`** runs against a real Synapse with 100 ms added to every request.
- **The inbox** (issue 21) answers from three platforms in what the slowest one takes
  (1.08x-1.17x across runs; with a fresh event loop each round, about 1.5x, as three
  `catch_up` calls made at once by a client: three sandboxes opening some 40 connections at
  once on 2 CPUs).
- **What the tools cost in context** (issue 22): every chat preset is under 700 bytes a tool
  (656-678) since result schemas are opt-in; docs/context.md has the figures per mode.
- **Team load** (issue 23): 16 MCP clients on two `--stateless` instances against one; on 2
  CPUs the clients share the cores with both servers, so the p50/p99 ratio is the figure.
- **Slack against its peers** (`uv run python -m bench.slack_peers`, outside the suite) is in
  `docs/platforms/slack.md`.
- **`--version`** is answered before Typer is imported.
"""


if __name__ == "__main__":
    raise SystemExit(main())
