"""Export round trips: every format holds exactly the events of the range."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from streamgauge.archive import Archive, ArchiveSink
from streamgauge.archive.export import ExportFormat, export
from tests.archive.conftest import make_events

SINCE = datetime(2025, 10, 1, 12, tzinfo=UTC)
UNTIL = datetime(2025, 10, 2, 6, tzinfo=UTC)


@pytest.fixture
def filled(archive: Archive) -> Archive:
    sink = ArchiveSink(archive)
    sink.write(make_events(0, 48), 48)  # hourly from 2025-10-01T00:00Z
    sink.flush()
    return archive


@pytest.mark.parametrize("fmt", ["parquet", "csv", "ndjson"])
def test_export_round_trips(filled: Archive, tmp_path: Path, fmt: ExportFormat) -> None:
    calls: list[tuple[int, int]] = []
    out = tmp_path / f"events.{fmt}"
    result = export(filled, SINCE, UNTIL, fmt, out, progress=lambda d, t: calls.append((d, t)))
    assert (result.events, calls[-1]) == (18, (18, 18))
    assert not out.with_name(out.name + ".partial").exists()
    reader = {"parquet": "read_parquet", "csv": "read_csv", "ndjson": "read_json"}[fmt]
    rows = duckdb.sql(
        f"SELECT event_id, timestamp::TIMESTAMPTZ, duration_ms FROM {reader}('{out}')"
    ).fetchall()
    assert [r[0] for r in rows] == [f"e{n}" for n in range(12, 30)]
    assert rows[0][1] == SINCE
    assert [r[2] for r in rows] == [n / 4 for n in range(12, 30)]


def test_ndjson_keeps_properties_as_json_and_times_as_iso(filled: Archive, tmp_path: Path) -> None:
    out = tmp_path / "events.ndjson"
    export(filled, SINCE, UNTIL, "ndjson", out)
    first = json.loads(out.read_text(encoding="utf-8").splitlines()[0])
    assert first["timestamp"] == "2025-10-01T12:00:00.000000Z"
    assert first["properties"] == {"n": 12, "tag": "ü"}


def test_parquet_export_keeps_the_canonical_schema(filled: Archive, tmp_path: Path) -> None:
    out = tmp_path / "e.parquet"
    export(filled, SINCE, UNTIL, "parquet", out)
    assert pq.read_schema(out).names[:3] == ["project_id", "event_id", "event"]
