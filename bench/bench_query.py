"""Query engine latency: templates and DSL queries vs. the same SQL run directly on DuckDB.

Usage: ``python bench/bench_query.py [EVENTS ...]`` (default 200000). For each size it
generates 30 days of demo traffic into a DuckDB file ordered by timestamp, then reports
p50 milliseconds over 1-day and 30-day ranges for project ``proj_0``.
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from bench.common import p50
from streamgauge.demo import TrafficConfig, generate_table
from streamgauge.query import run_query, run_template
from streamgauge.scope import KeyScope, Principal
from streamgauge.sinks.hot import HotStore

START, END = datetime(2025, 10, 1, tzinfo=UTC), datetime(2025, 10, 31, tzinfo=UTC)
RANGES = {
    "1d": ("2025-10-20T00:00:00Z", "2025-10-21T00:00:00Z"),
    "30d": ("2025-10-01T00:00:00Z", "2025-10-31T00:00:00Z"),
}
_FUNNEL = [{"event": "signup"}, {"event": "checkout.started"}, {"event": "checkout.completed"}]
_EU = [{"field": "properties.region", "op": "eq", "value": "eu"}]
CASES: dict[str, tuple[str | None, dict[str, Any]]] = {
    "dsl count by hour": (None, {"groupBy": "hour"}),
    "dsl p95 by path": (
        None,
        {"event": "api.request", "dimensions": ["path"], "metrics": ["count", "p95(duration_ms)"]},
    ),
    "dsl filtered props": (
        None,
        {"groupBy": "auto", "timezone": "Europe/Berlin", "filters": _EU,
         "metrics": ["count", "uniq(user_id)", "error_rate"]},
    ),
    "performance": ("performance", {"groupBy": "hour"}),
    "performance by endpoint": ("performance", {"by": "endpoint"}),
    "errors": ("errors", {"groupBy": "hour"}),
    "users": ("users", {}),
    "sessions": ("sessions", {"groupBy": "day"}),
    "retention": ("retention", {"period": "day", "periods": 7}),
    "funnel": ("funnel", {"steps": _FUNNEL}),
    "top": ("top", {"dimension": "organization_id", "metric": "sum(usage_quantity)"}),
    "anomalies": ("anomalies", {"groupBy": "hour"}),
    "usage": ("usage", {}),
}  # fmt: skip


class Recorder:
    """A connection stand-in recording the statements the engine runs."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con, self.statements = con, []  # type: ignore[var-annotated]

    def execute(self, sql: str, params: Any = None) -> duckdb.DuckDBPyConnection:
        self.statements.append((sql, params))
        return self.con.execute(sql, params)


def load(path: Path, events: int) -> duckdb.DuckDBPyConnection:
    """A hot store file (the server's own schema) holding ``events`` generated events."""
    store = HotStore(path)
    table = generate_table(TrafficConfig(START, END, events=events, seed=1))
    store.write(table, 0)  # already in timestamp order
    store.connection.execute("CHECKPOINT")
    store.close()
    return duckdb.connect(str(path))


def main(sizes: list[int] | None = None, repeats: int = 5) -> list[dict[str, Any]]:
    results = []
    principal = Principal("proj_0", KeyScope.READ)
    now = END
    for size in sizes or [200_000]:
        with tempfile.TemporaryDirectory() as folder:
            started = time.perf_counter()
            con = load(Path(folder) / "bench.duckdb", size)
            print(f"{size:,} events loaded in {time.perf_counter() - started:.1f} s")
            print(f"{'case':28} {'range':>5} {'engine ms':>10} {'direct ms':>10} {'ratio':>6}")
            for name, (template, extra) in CASES.items():
                for label, (start, end) in RANGES.items():
                    body = {"start": start, "end": end, **extra}
                    recorder = Recorder(con)

                    def engine(
                        rec: Any = recorder, t: str | None = template, b: dict[str, Any] = body
                    ) -> object:
                        if t is None:
                            return run_query(rec, principal, b, now=now)
                        return run_template(rec, principal, t, b, now=now)

                    engine_ms = p50(engine, repeats)
                    statements = recorder.statements[:1] if recorder.statements else []
                    direct_ms = p50(
                        lambda s=statements, c=con: [
                            c.execute(q, p).to_arrow_table() for q, p in s
                        ],
                        repeats,
                    )
                    ratio = engine_ms / direct_ms if direct_ms else float("nan")
                    print(f"{name:28} {label:>5} {engine_ms:10.1f} {direct_ms:10.1f} {ratio:6.2f}")
                    results.append(
                        {
                            "events": size,
                            "case": name,
                            "range": label,
                            "engine_ms": engine_ms,
                            "direct_ms": direct_ms,
                        }
                    )
            con.close()
    return results


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or None)
