"""A small generated data set in an in-memory DuckDB ``events`` table, and its rows."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import duckdb
import pytest

from streamgauge.demo import TrafficConfig, generate_table
from streamgauge.model.event import create_table_sql
from streamgauge.scope import KeyScope, Principal

# Spans Europe/Berlin's DST change (2025-10-26 03:00 CEST -> 02:00 CET).
CONFIG = TrafficConfig(
    start=datetime(2025, 10, 22, tzinfo=UTC),
    end=datetime(2025, 10, 29, tzinfo=UTC),
    events=12_000,
    seed=11,
)
NOW = datetime(2025, 10, 29, tzinfo=UTC)
PROJECT = "proj_0"


@pytest.fixture(scope="session")
def loaded() -> Iterator[tuple[duckdb.DuckDBPyConnection, list[dict[str, Any]]]]:
    table = generate_table(CONFIG)
    con = duckdb.connect()
    con.execute(create_table_sql())
    con.register("generated", table)
    con.execute("INSERT INTO events SELECT * FROM generated")
    con.unregister("generated")
    # Queries must not depend on the session time zone.
    con.execute("SET TimeZone = 'America/New_York'")
    rows = table.to_pylist()
    for row in rows:
        for key in ("timestamp", "received_at"):
            row[key] = row[key].astimezone(UTC)
    yield con, rows
    con.close()


@pytest.fixture(scope="session")
def con(
    loaded: tuple[duckdb.DuckDBPyConnection, list[dict[str, Any]]],
) -> duckdb.DuckDBPyConnection:
    return loaded[0]


@pytest.fixture(scope="session")
def events(loaded: tuple[duckdb.DuckDBPyConnection, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Every generated event as a dict (UTC datetimes)."""
    return loaded[1]


@pytest.fixture(scope="session")
def principal() -> Principal:
    return Principal(PROJECT, KeyScope.READ)
