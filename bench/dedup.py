"""The dedup state's footprint: disk and memory for N ids in the window (issue 2).

Appends N events with unique ids to a fresh embedded log (the real write
path: dedup look-up, log entry, dedup key, one fsync per group), then reports
the log database's size on disk, the process's peak RSS, and the look-up cost
of a batch of known ids (all duplicates) against new ones at that size.

Run: ``python -m bench.dedup [--ids N]``.
"""

from __future__ import annotations

import argparse
import resource
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import save
from streamgauge.log.local import LocalLog
from streamgauge.model import Event

BATCH = 5_000


def batch(start: int, count: int) -> list[Event]:
    return [Event("p", f"evt-{n:012d}", "e", n, n) for n in range(start, start + count)]


def run(ids: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "log.db"
        log = LocalLog(path)
        started = time.perf_counter()
        for start in range(0, ids, BATCH):
            log.append(batch(start, min(BATCH, ids - start))).result()
        elapsed = time.perf_counter() - started
        probe_known = batch(ids // 2, BATCH)
        t0 = time.perf_counter()
        duplicates = len(log.append(probe_known).result().duplicate_indexes)
        known_ms = (time.perf_counter() - t0) * 1000
        t0 = time.perf_counter()
        fresh = log.append(batch(ids, BATCH)).result().accepted
        fresh_ms = (time.perf_counter() - t0) * 1000
        log.close()
        size = sum(f.stat().st_size for f in Path(tmp).glob("log.db*"))
        with sqlite3.connect(path) as conn:  # bytes per table, from SQLite's own page map
            tables = dict(conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name"))
        dedup_bytes = sum(v for k, v in tables.items() if k.startswith("dedup_"))
    assert duplicates == BATCH and fresh == BATCH
    return {
        "ids": ids,
        "append_ids_per_s": round(ids / elapsed),
        "disk_bytes": size,
        "dedup_bytes": dedup_bytes,
        "dedup_bytes_per_id": round(dedup_bytes / ids, 1),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        f"lookup_{BATCH}_known_ids_ms": round(known_ms, 1),
        f"append_{BATCH}_new_ids_ms": round(fresh_ms, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ids", type=int, default=1_000_000)
    args = parser.parse_args()
    result = run(args.ids)
    print(result)
    save("dedup", result)


if __name__ == "__main__":
    main()
