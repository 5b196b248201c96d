"""``make bench-compare``: streamgauge against the alternatives, side by side.

One run, the same generated data for every contender, ratios against
streamgauge: ingest (batches over HTTP; the engines' own JSON loaders as the
limit) and the six questions of ``questions.py`` (p50/p95 latency, whether
the answers agree, peak RSS). Figures go to bench/results/compare.json;
``--docs`` also rewrites the generated part of docs/bench-compare.md and the
plots under docs/bench/.

Example: ``python -m bench.compare --quick``
"""

from __future__ import annotations

import argparse
import shlex
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import git_revision, save
from bench.compare import clickhouse, postgres, report, workloads
from bench.compare.measure import QueryRun
from bench.compare.questions import QUESTIONS

ROOT = Path(__file__).resolve().parent.parent.parent
FULL = {"events": 1_000_000, "query_events": 10_000_000, "repeats": 7}
QUICK = {"events": 20_000, "query_events": 100_000, "repeats": 3}


def versions(contenders: workloads.Contenders) -> dict[str, str]:
    from importlib.metadata import version

    found = {
        name: version(name)
        for name in ("streamgauge", "duckdb", "fastapi", "pydantic", "psycopg", "uvicorn")
    }
    if contenders.runs(workloads.CHDB):
        found["chdb"] = clickhouse.version()
    if contenders.runs(workloads.POSTGRES):
        found["postgresql"] = postgres.version()
    return found


def query_results(runs: list[QueryRun], events: int, repeats: int) -> dict[str, Any]:
    verdicts = workloads.agreement(runs)
    questions = []
    for question in QUESTIONS:
        results = {}
        for run in runs:
            timed = run.timings[question.name]
            verdict, detail = verdicts[question.name].get(run.contender, ("reference", ""))
            results[run.contender] = {**timed.summary(), "agreement": verdict, "detail": detail}
        rows = len(runs[0].timings[question.name].answer)
        questions.append({"question": question.name, "rows": rows, "results": results})
    contenders = {r.contender: {"load_s": r.load_s, "peak_rss_mib": r.peak_rss_mib} for r in runs}
    return {"events": events, "repeats": repeats, "contenders": contenders, "questions": questions}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, about a minute")
    parser.add_argument("--events", type=int, help="ingest events (default 1,000,000)")
    parser.add_argument("--query-events", type=int, help="query events (default 10,000,000)")
    parser.add_argument("--repeats", type=int, help="timed runs per question (default 7)")
    parser.add_argument("--only", choices=["ingest", "queries"], help="one workload only")
    parser.add_argument("--no-chdb", action="store_true", help="leave chdb out")
    parser.add_argument("--no-postgres", action="store_true", help="leave PostgreSQL out")
    parser.add_argument(
        "--docs",
        action="store_true",
        help="rewrite docs/bench-compare.md's figures and docs/bench/*.png",
    )
    args = parser.parse_args(argv)
    sizes = dict(QUICK if args.quick else FULL)
    for key in sizes:
        if getattr(args, key) is not None:
            sizes[key] = getattr(args, key)
    contenders = workloads.Contenders.detect(chdb=not args.no_chdb, postgresql=not args.no_postgres)
    for name, reason in contenders.skipped.items():
        print(f"skipping {name}: {reason}", file=sys.stderr)
    result: dict[str, Any] = {
        "command": "python -m bench.compare " + shlex.join(sys.argv[1:] if argv is None else argv),
        "revision": git_revision(),
        "versions": versions(contenders),
        "skipped": contenders.skipped,
    }
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench-compare-") as tmp:
        workdir = Path(tmp)
        if args.only in (None, "ingest"):
            print(f"ingest: {sizes['events']:,} events in 1,000-event batches", flush=True)
            result["ingest"] = workloads.ingest(workdir / "ingest", sizes["events"], contenders)
        if args.only in (None, "queries"):
            print(
                f"queries: {sizes['query_events']:,} events, {sizes['repeats']} runs each",
                flush=True,
            )
            runs = workloads.queries(
                workdir / "queries", sizes["query_events"], sizes["repeats"], contenders
            )
            result["queries"] = query_results(runs, sizes["query_events"], sizes["repeats"])
    result["wall_s"] = round(time.monotonic() - started)
    path = save("compare", result)
    print(report.text(result))
    print(f"figures: {path.relative_to(ROOT)} ({result['wall_s']} s)")
    if args.docs:
        for written in report.write_docs(result, ROOT / "docs"):
            print(f"wrote {written.relative_to(ROOT)}")
    disagreements = [
        f"{q['question']}: {name}: {r['detail']}"
        for q in result.get("queries", {}).get("questions", [])
        for name, r in q["results"].items()
        if r["agreement"] == "differs"
    ]
    for line in disagreements:
        print(f"answers differ: {line}", file=sys.stderr)
    return 1 if disagreements else 0


if __name__ == "__main__":
    sys.exit(main())
