"""Fixtures for archive tests: a fresh archive under a temporary data directory."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from streamgauge.archive import Archive, ArchiveSettings
from streamgauge.archive.reading import attach_archive
from streamgauge.model import Event, events_to_arrow

DAY_US = 86_400_000_000
T0 = int(datetime(2025, 10, 1, tzinfo=UTC).timestamp() * 1_000_000)


def make_events(first: int, count: int, *, step_us: int = 3_600_000_000) -> pa.Table:
    """Events ``first..first+count-1`` (event_id ``e<n>``), one per ``step_us`` from T0."""
    events = [
        Event(
            project_id=f"p{n % 3}",
            event_id=f"e{n}",
            event="request" if n % 2 else "signup",
            timestamp=T0 + n * step_us,
            received_at=T0 + n * step_us + 5,
            user_id=f"u{n % 7}",
            duration_ms=n / 4,
            status_code=200 + n % 3,
            path=f"/p/{n % 5}",
            properties=json.dumps({"n": n, "tag": "ü"}),
        )
        for n in range(first, first + count)
    ]
    return events_to_arrow(events)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def archive(data_dir: Path) -> Archive:
    return Archive(ArchiveSettings(), data_dir)


def duckdb_event_ids(archive: Archive) -> list[str]:
    """Event ids as DuckDB's iceberg_scan sees the current snapshot, sorted."""
    con = duckdb.connect()
    relation = attach_archive(con, archive)
    rows = con.execute(f"SELECT event_id FROM {relation} ORDER BY event_id").fetchall()
    return [r[0] for r in rows]


def ids(first: int, count: int) -> list[str]:
    return sorted(f"e{n}" for n in range(first, first + count))
