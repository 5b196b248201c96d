"""Billing latency: one organization's month of usage, and invoices for every organization.

Usage: ``python bench/bench_billing.py [EVENTS ...]`` (default 1000000; ``make bench``
passes 10000000). Generates a month of ``usage.tracked`` events for 1,000
organizations and 3 SKUs into a DuckDB file ordered by timestamp, then reports p50
milliseconds of ``POST /meters/usage/query`` for one organization (its own scoped
key), ``POST /billing/invoice`` for one organization and ``/billing/invoices`` for all.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import msgspec
import numpy as np
import pyarrow as pa

from bench.common import p50, save
from streamgauge.billing.answers import Billing
from streamgauge.config import BillingSettings
from streamgauge.model.event import create_table_sql
from streamgauge.scope import KeyScope, Principal

ORGANIZATIONS = 1000
MONTH_START_US = 1_759_276_800_000_000  # 2025-10-01T00:00:00Z
MONTH_US = 31 * 86_400_000_000
SETTINGS = msgspec.convert(
    {"prices": [
        {"sku": "ai-text", "model": "graduated",
         "tiers": [{"up_to": 100000, "unit_price": "0"}, {"unit_price": "0.00002"}]},
        {"sku": "ai-image", "model": "package", "package_size": 100, "package_price": "1.99"},
        {"sku": "storage", "unit_price": "0.023", "minimum_charge": "5"},
    ]},
    BillingSettings, strict=False,
)  # fmt: skip
OCTOBER = {"start": "2025-10-01T00:00:00Z", "end": "2025-11-01T00:00:00Z"}


def generate(path: Path, events: int, chunk: int = 1_000_000) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(path))
    con.execute(create_table_sql())
    rng = np.random.default_rng(7)
    skus = np.array(["ai-text", "ai-image", "storage"])
    units = np.array(["tokens", "images", "gb"])
    for offset in range(0, events, chunk):
        n = min(chunk, events - offset)
        at = np.sort(rng.integers(MONTH_START_US, MONTH_START_US + MONTH_US, n))
        kind = rng.integers(0, 3, n)
        ts = pa.array(at, pa.timestamp("us", tz="UTC"))
        table = pa.table({
            "project_id": pa.array(["shop"] * n),
            "event_id": pa.array([f"e{offset + i}" for i in range(n)]),
            "event": pa.array(["usage.tracked"] * n),
            "timestamp": ts, "received_at": ts,
            "organization_id": pa.array(np.char.add("org_", rng.integers(0, ORGANIZATIONS, n)
                                                    .astype(str))),
            "usage_quantity": pa.array(rng.integers(1, 5000, n).astype(float)),
            "usage_unit": pa.array(units[kind]), "usage_sku": pa.array(skus[kind]),
        })  # fmt: skip
        con.register("chunk", table)
        con.execute("INSERT INTO events BY NAME SELECT * FROM chunk")
        con.unregister("chunk")
    con.execute("CHECKPOINT")
    return con


def run(events: int, repeats: int = 7) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        con = generate(Path(folder) / "hot.duckdb", events)
        load_s = time.perf_counter() - started
        billing = Billing(SETTINGS)
        scoped = Principal("shop", KeyScope.READ, organization_id="org_42")
        admin = Principal("shop", KeyScope.READ)
        cases: dict[str, Callable[[], object]] = {
            "usage, one organization, month": lambda: billing.query_meter(
                con.cursor(), scoped, "usage", OCTOBER
            ),
            "usage by day, one organization": lambda: billing.query_meter(
                con.cursor(), scoped, "usage", {**OCTOBER, "window": "day"}
            ),
            "invoice, one organization": lambda: billing.invoice(
                con.cursor(), scoped, {"period": "2025-10"}
            ),
            "invoices, all organizations": lambda: billing.invoices(
                con.cursor(), admin, {"period": "2025-10"}, one=False
            ),
        }
        timings = {name: round(p50(action, repeats), 2) for name, action in cases.items()}
        con.close()
    return {"events": events, "organizations": ORGANIZATIONS, "load_s": round(load_s, 1),
            "p50_ms": timings}  # fmt: skip


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    sizes = [int(a) for a in (argv if argv is not None else sys.argv[1:])] or [1_000_000]
    results = []
    for events in sizes:
        result = run(events)
        results.append(result)
        print(f"{events:>11,} events (loaded in {result['load_s']} s)")
        for name, ms in result["p50_ms"].items():
            print(f"  {name:<34} p50 {ms:>9.2f} ms")
    save("billing", {"results": results})
    return results


if __name__ == "__main__":
    main()
