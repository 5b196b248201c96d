"""``make bench``: every benchmark, one after another, each against its baseline.

Each benchmark runs as its own process (so one's memory does not colour the
next) and saves its figures in bench/results/NAME.json; BENCHMARKS.md quotes
them. ``python -m bench --quick`` runs small sizes (a few minutes in all);
``python -m bench ingest query`` runs only those.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# name: (module or script, arguments for the sizes, arguments for --quick)
BENCHMARKS: dict[str, tuple[str, list[str], list[str]]] = {
    "ingest": ("bench.ingest", ["--events", "500000", "--seconds", "10"],
               ["--events", "50000", "--seconds", "3"]),
    "query": ("bench.query_http", ["--events", "10000000", "--repeats", "5"],
              ["--events", "300000", "--repeats", "3"]),
    "archive": ("bench.bench_archive", ["10000000"], ["200000"]),
    "billing": ("bench.bench_billing", ["10000000"], ["200000"]),
    "sources": ("bench.bench_sources", ["--events", "20000"], ["--events", "3000"]),
    "dedup": ("bench.dedup", ["--ids", "10000000"], ["--ids", "200000"]),
    "pipeline": ("bench.bench_pipeline", ["--events", "20000"], ["--events", "5000"]),
    "distributed": ("bench.bench_distributed", ["--events", "100000", "--samples", "100"],
                    ["--events", "10000", "--samples", "20"]),
    "middleware": ("clients/python/bench/bench_middleware.py", ["--requests", "20000"],
                   ["--requests", "3000"]),
}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="*", help=f"which to run: {', '.join(BENCHMARKS)}")
    parser.add_argument("--quick", action="store_true", help="small sizes")
    args = parser.parse_args()
    unknown = set(args.names) - set(BENCHMARKS)
    if unknown:
        parser.error(
            f"unknown benchmark {', '.join(sorted(unknown))}; choose from {', '.join(BENCHMARKS)}"
        )
    failed = []
    for name in args.names or list(BENCHMARKS):
        target, full, quick = BENCHMARKS[name]
        runner = ["-m", target] if not target.endswith(".py") else [target]
        command = [sys.executable, *runner, *(quick if args.quick else full)]
        print(f"\n== {name}: {' '.join(command[1:])}", flush=True)
        started = time.monotonic()
        if subprocess.run(command, cwd=ROOT).returncode != 0:
            failed.append(name)
        print(f"== {name} took {time.monotonic() - started:.0f} s", flush=True)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
