"""Archive benchmark: write throughput, pruned and full-range queries, compaction.

Usage: ``python bench/bench_archive.py [EVENTS] [DAYS] [COMMIT_BATCH] [--by-project]``
(default 200k events, 90 days, 50k per commit).
``main()`` returns the numbers as a dict and prints them as JSON.

Measured in one run, on the same data:
- archive write (ArchiveSink micro-batches, commits included) vs one
  ``pyarrow.parquet.write_table`` of the same Arrow table (zstd);
- a 1-day range query for one project, and a 90-day daily aggregate, via
  DuckDB ``iceberg_scan`` vs DuckDB ``read_parquet`` over the same data files;
- file count and average file size before and after compaction.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from streamgauge.archive import Archive, ArchiveSettings, ArchiveSink
from streamgauge.archive.compaction import compact
from streamgauge.archive.maintenance import status
from streamgauge.archive.reading import attach_archive, current_data_files
from streamgauge.archive.storage import local_path
from streamgauge.model import arrow_schema

T0_US = 1_750_000_000_000_000 - 1_750_000_000_000_000 % 86_400_000_000
DAY_US = 86_400_000_000


def synthetic_events(count: int, days: int, projects: int = 20, seed: int = 7) -> pa.Table:
    """``count`` events in log order (received time), spread uniformly over ``days``."""
    rng = np.random.default_rng(seed)
    ts = np.sort(rng.integers(T0_US, T0_US + days * DAY_US, count))
    n = np.arange(count)
    columns: dict[str, Any] = {
        "project_id": pa.array(np.char.add("p", (n % projects).astype(str))),
        "event_id": pa.array(np.char.add("e", n.astype(str))),
        "event": pa.array(np.where(n % 10 == 0, "error", "request")),
        "timestamp": pa.array(ts).cast(pa.timestamp("us", tz="UTC")),
        "received_at": pa.array(ts + 1000).cast(pa.timestamp("us", tz="UTC")),
        "user_id": pa.array(np.char.add("u", (rng.integers(0, 50_000, count)).astype(str))),
        "duration_ms": pa.array(rng.gamma(2.0, 40.0, count)),
        "status_code": pa.array(np.where(n % 10 == 0, 500, 200).astype(np.int32)),
        "path": pa.array(np.char.add("/api/", (n % 40).astype(str))),
        "source": pa.array(np.full(count, "native")),
        "properties": pa.array(np.char.add('{"plan":"p', (n % 3).astype(str) + '"}')),
    }
    schema = arrow_schema()
    arrays = [columns[f.name] if f.name in columns else pa.nulls(count, f.type) for f in schema]
    return pa.Table.from_arrays(arrays, schema=schema)


def _timed(fn: Callable[[], object], repeat: int = 5) -> float:
    """p50 wall time in milliseconds."""
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(samples), 1)


def _runner(con: duckdb.DuckDBPyConnection, sql: str) -> Callable[[], object]:
    return lambda: con.execute(sql).fetchall()


def _rounded(rows: list[Any]) -> list[Any]:
    # Float sums differ in the last bits with scan order; compare what matters.
    return [tuple(round(v, 6) if isinstance(v, float) else v for v in row) for row in rows]


def _queries(archive: Archive, days: int) -> dict[str, Any]:
    con = duckdb.connect()
    iceberg = attach_archive(con, archive)
    files = [local_path(f.file_path) for f in current_data_files(archive.table)]
    parquet = "read_parquet(" + "[" + ", ".join(f"'{p}'" for p in files) + "])"
    mid = T0_US // 1_000_000 + (days // 2) * 86_400
    one_day = (
        "SELECT count(*), avg(duration_ms), quantile_cont(duration_ms, 0.95) FROM {rel} "
        f"WHERE project_id = 'p3' AND timestamp >= to_timestamp({mid}) "
        f"AND timestamp < to_timestamp({mid + 86_400})"
    )
    all_days = (
        "SELECT date_trunc('day', timestamp) AS day, count(*), avg(duration_ms), "
        "count(DISTINCT user_id) FROM {rel} GROUP BY 1 ORDER BY 1"
    )
    results: dict[str, Any] = {}
    for name, sql in (("one_day", one_day), ("all_days", all_days)):
        a, b = (_rounded(con.execute(sql.format(rel=r)).fetchall()) for r in (iceberg, parquet))
        assert a == b, f"{name}: iceberg_scan and read_parquet disagree: {a[:2]} {b[:2]}"
        for tier, relation in (("iceberg", iceberg), ("parquet", parquet)):
            results[f"{name}_{tier}_ms"] = _timed(_runner(con, sql.format(rel=relation)))
    plan = str(con.execute("EXPLAIN ANALYZE " + one_day.format(rel=iceberg)).fetchall())
    results["one_day_files_read"] = int(plan.split("Total Files Read: ")[1].split()[0])
    results["data_files"] = len(files)
    return results


def _files(archive: Archive) -> dict[str, Any]:
    s = status(archive)
    return {"files": s.data_files, "avg_file_mb": round(s.bytes / max(1, s.data_files) / 2**20, 3)}


def main(
    events: int = 200_000, days: int = 90, batch: int = 50_000, by_project: bool = False
) -> dict[str, Any]:
    """Run every measurement on ``events`` events over ``days`` days; return the numbers.

    ``by_project`` adds ``identity(project_id)`` to the partition spec, to measure
    whether it helps (streamgauge's table is partitioned by day only).
    """
    data = synthetic_events(events, days)
    out: dict[str, Any] = {"events": events, "days": days, "commit_batch": batch}
    out["partitioned_by"] = "day, project_id" if by_project else "day"
    with tempfile.TemporaryDirectory(prefix="bench-archive-") as tmp:
        started = time.perf_counter()
        pq.write_table(data, Path(tmp) / "direct.parquet", compression="zstd")
        out["pyarrow_parquet_events_per_s"] = round(events / (time.perf_counter() - started))

        archive = Archive(ArchiveSettings(commit_max_events=batch), Path(tmp) / "data")
        if by_project:
            with archive.table.update_spec() as spec:
                spec.add_identity("project_id")
        sink = ArchiveSink(archive)
        started = time.perf_counter()
        for offset in range(0, events, batch):
            chunk = data.slice(offset, batch)
            sink.write(chunk, offset + chunk.num_rows)
            sink.flush()
        out["archive_events_per_s"] = round(events / (time.perf_counter() - started))
        out["before_compaction"] = _files(archive)
        out["queries_before_compaction"] = _queries(archive, days)

        started = time.perf_counter()
        compact(archive, min_files=2)
        out["compaction_s"] = round(time.perf_counter() - started, 2)
        out["after_compaction"] = _files(archive)
        out["queries_after_compaction"] = _queries(archive, days)
    print(json.dumps(out, indent=2))
    return out


if __name__ == "__main__":
    events, days, batch = ([int(a) for a in sys.argv[1:] if a.isdigit()] + [0, 0, 0])[:3]
    main(events or 200_000, days or 90, batch or 50_000, by_project="--by-project" in sys.argv)
