"""ClickHouse's engine, embedded: chdb with the events in a MergeTree table.

The table is what an analytics product on ClickHouse would declare: low
cardinality text where values repeat, ``Nullable`` where the canonical column
may be null (so answers agree with the other contenders' null semantics),
sorted by ``(project_id, event, timestamp)``. Queries are the hand-written
ClickHouse SQL of ``questions.py``. Ingest: chdb loading the same NDJSON
file with ``file(..., JSONEachRow)`` into a MergeTree table. Everything runs
in a child process of its own (``measure.in_child``).
"""

from __future__ import annotations

import importlib
import time
from pathlib import Path
from typing import Any

from bench.compare.answers import normalize
from bench.compare.measure import QueryRun, Timed, own_cpu_seconds, own_peak_rss_mib, repeat
from bench.compare.questions import QUESTIONS

DATABASE = "bench"
LOAD_RUNS = 3

EVENTS_TABLE = """CREATE TABLE bench.events (
  project_id LowCardinality(String), event_id String, event LowCardinality(String),
  timestamp DateTime64(6, 'UTC'), received_at DateTime64(6, 'UTC'),
  user_id Nullable(String), anonymous_id Nullable(String), session_id Nullable(String),
  organization_id LowCardinality(Nullable(String)),
  duration_ms Nullable(Float64), status_code Nullable(Int32), error Nullable(String),
  usage_quantity Nullable(Float64), usage_unit LowCardinality(Nullable(String)),
  usage_sku LowCardinality(Nullable(String)),
  method LowCardinality(Nullable(String)), path LowCardinality(Nullable(String)),
  source LowCardinality(String), properties Nullable(String), context Nullable(String)
) ENGINE = MergeTree ORDER BY (project_id, event, timestamp)"""


def version() -> str:
    chdb: Any = importlib.import_module("chdb")
    return f"chdb {chdb.__version__} (ClickHouse {chdb.engine_version})"


def _session(path: Path) -> Any:
    module: Any = importlib.import_module("chdb.session")  # imported late: chdb is optional
    session = module.Session(str(path))
    session.query(f"CREATE DATABASE IF NOT EXISTS {DATABASE}")
    session.query(f"USE {DATABASE}")
    return session


def queries(parquet: Path, workdir: Path, repeats: int) -> QueryRun:
    run = QueryRun("chdb (ClickHouse)")
    session = _session(workdir / "chdb-queries")
    try:
        started = time.perf_counter()
        session.query(EVENTS_TABLE)
        session.query(f"INSERT INTO {DATABASE}.events SELECT * FROM file('{parquet}', Parquet)")
        session.query(f"OPTIMIZE TABLE {DATABASE}.events FINAL")
        run.load_s = round(time.perf_counter() - started, 1)
        for question in QUESTIONS:
            sql, params = question.clickhouse, question.clickhouse_params()

            def ask(sql: str = sql, params: dict[str, Any] = params) -> Any:
                return session.query(sql, "ArrowTable", params=params)

            samples, table = repeat(ask, repeats)
            rows = [tuple(row.values()) for row in table.to_pylist()]
            run.timings[question.name] = Timed(samples, normalize(question.kinds, rows))
    finally:
        session.close()
    run.peak_rss_mib = round(own_peak_rss_mib(), 1)
    return run


def load_json(ndjson: Path, events: int, workdir: Path) -> dict[str, Any]:
    """Median events/s and CPU seconds per million of ``LOAD_RUNS`` loads of the
    NDJSON file into a MergeTree table (nested objects become tuples)."""
    rates, cpus = [], []
    session = _session(workdir / "chdb-ingest")
    try:
        for n in range(LOAD_RUNS):
            cpu_before, started = own_cpu_seconds(), time.perf_counter()
            session.query(
                f"CREATE TABLE {DATABASE}.loaded_{n} ENGINE = MergeTree ORDER BY tuple() "
                f"AS SELECT * FROM file('{ndjson}', JSONEachRow)"
            )
            rates.append(events / (time.perf_counter() - started))
            cpus.append((own_cpu_seconds() - cpu_before) / events * 1e6)
            count = session.query(f"SELECT count() FROM {DATABASE}.loaded_{n}", "CSV")
            if int(str(count).strip()) != events:
                raise RuntimeError(f"chdb loaded {count} events instead of {events}")
    finally:
        session.close()
    return {
        "events_per_s": round(sorted(rates)[len(rates) // 2]),
        "cpu_s_per_million": round(sorted(cpus)[len(cpus) // 2], 2),
        "peak_rss_mib": round(own_peak_rss_mib(), 1),
    }


def unavailable() -> str:
    """Why chdb cannot run here, or "" when it can."""
    try:
        import chdb  # noqa: F401
    except ImportError as error:
        return f"chdb is not installed ({error}); `make bench-compare` installs it"
    return ""
