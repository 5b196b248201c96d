"""The two workloads, each on every available contender, on the same data.

``ingest`` sends the same batches to streamgauge and to the PostgreSQL
service, and loads the same NDJSON with DuckDB and chdb (the engines' own
loaders, an upper bound for any service in front of them). ``queries`` asks
the six questions of every contender and says whether the answers agree
with streamgauge's.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.compare import clickhouse, duckdb_direct, postgres, sg_http
from bench.compare.answers import compare
from bench.compare.dataset import IngestData, QueryData
from bench.compare.measure import QueryRun, in_child
from bench.compare.questions import QUESTIONS

STREAMGAUGE = "streamgauge"
DUCKDB = "DuckDB direct"
CHDB = "chdb (ClickHouse)"
POSTGRES = "PostgreSQL"


@dataclass(slots=True)
class Contenders:
    """Which optional contenders run, and why one does not."""

    skipped: dict[str, str] = field(default_factory=dict)

    @classmethod
    def detect(cls, *, chdb: bool = True, postgresql: bool = True) -> Contenders:
        skipped = {}
        reason = clickhouse.unavailable() if chdb else "left out (--no-chdb)"
        if reason:
            skipped[CHDB] = reason
        reason = postgres.unavailable() if postgresql else "left out (--no-postgres)"
        if reason:
            skipped[POSTGRES] = reason
        return cls(skipped)

    def runs(self, name: str) -> bool:
        return name not in self.skipped


def ingest(workdir: Path, events: int, contenders: Contenders) -> dict[str, Any]:
    workdir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    data = IngestData.build(workdir, events)
    results: dict[str, Any] = {"events": events, "build_s": round(time.perf_counter() - started)}
    results["streamgauge"] = sg_http.ingest(data, workdir)
    if contenders.runs(POSTGRES):
        with postgres.schema() as conn:
            results["PostgreSQL service"] = postgres.ingest(conn, data, workdir)
    for name in ("streamgauge", "PostgreSQL service"):
        stored = results.get(name, {}).get("stored", 2 * events)
        if stored != 2 * events:  # both formats, every event once: anything else is a bug
            raise RuntimeError(f"{name} stored {stored:,} events instead of {2 * events:,}")
    results["DuckDB read_json"] = in_child(
        duckdb_direct.load_json, data.ndjson_file, events, workdir
    )
    if contenders.runs(CHDB):
        results["chdb JSONEachRow"] = in_child(
            clickhouse.load_json, data.ndjson_file, events, workdir
        )
    return results


def queries(workdir: Path, events: int, repeats: int, contenders: Contenders) -> list[QueryRun]:
    """Every contender's run; streamgauge's first (the answers the others must give)."""
    workdir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    data = QueryData.build(workdir, events)
    print(f"  data built in {time.perf_counter() - started:.0f} s", flush=True)
    runs = [
        sg_http.queries(data, repeats),
        in_child(duckdb_direct.queries, data.hot_store, repeats),
    ]
    if contenders.runs(CHDB):
        runs.append(in_child(clickhouse.queries, data.parquet, workdir, repeats))
    if contenders.runs(POSTGRES):
        with postgres.schema() as conn:
            runs.append(postgres.queries(conn, data.csv, repeats))
    return runs


def agreement(runs: list[QueryRun]) -> dict[str, dict[str, tuple[str, str]]]:
    """Per question, per contender: its answer against streamgauge's."""
    reference = runs[0]
    verdicts: dict[str, dict[str, tuple[str, str]]] = {}
    for question in QUESTIONS:
        expected = reference.timings[question.name].answer
        verdicts[question.name] = {
            run.contender: compare(question.kinds, expected, run.timings[question.name].answer)
            for run in runs[1:]
        }
    return verdicts
