"""A generated month of usage for many organizations in an in-memory hot store."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from streamgauge.model.event import create_table_sql

PROJECT = "proj"
ORGANIZATIONS = [f"org_{i:02d}" for i in range(40)]
SKUS = [("ai-text", "tokens"), ("ai-image", "images"), ("storage", "gb")]
MONTH_START = datetime(2025, 10, 1, tzinfo=UTC)


def generate_usage(events: int, seed: int) -> list[dict[str, Any]]:
    """Usage events over October 2025 (plus a few in September and November), with
    fractional quantities, corrections and another project's events."""
    rng = random.Random(seed)
    rows = []
    for n in range(events):
        sku, unit = rng.choice(SKUS)
        quantity: float = rng.randint(1, 5000)
        if sku == "storage":
            quantity = rng.randint(1, 999) / 10  # 0.1 .. 99.9 GB: not exact as doubles
        if rng.random() < 0.03:
            quantity = -rng.randint(1, 50)  # corrections
        at = MONTH_START + timedelta(seconds=rng.randint(-2 * 86400, 33 * 86400))
        rows.append({
            "project_id": PROJECT if rng.random() < 0.95 else "other", "event_id": f"e{n}",
            "event": "usage.tracked", "timestamp": at, "received_at": at,
            "organization_id": rng.choice(ORGANIZATIONS), "user_id": f"u{rng.randint(1, 300)}",
            "usage_quantity": quantity, "usage_unit": unit, "usage_sku": sku,
        })  # fmt: skip
    return rows


def load(rows: list[dict[str, Any]]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(create_table_sql())
    table = pa.Table.from_pylist(rows)
    con.register("generated", table)
    con.execute("INSERT INTO events BY NAME SELECT * FROM generated")
    con.unregister("generated")
    con.execute("SET TimeZone = 'America/New_York'")  # answers must not depend on it
    return con


@pytest.fixture(scope="session")
def month() -> Iterator[tuple[duckdb.DuckDBPyConnection, list[dict[str, Any]]]]:
    rows = generate_usage(6000, seed=7)
    con = load(rows)
    yield con, rows
    con.close()
