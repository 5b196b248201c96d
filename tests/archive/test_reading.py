"""DuckDB access for the planner, partition pruning, and the time range held."""

from __future__ import annotations

import duckdb

from streamgauge.archive import Archive, ArchiveSink
from streamgauge.archive.reading import TimeRange, attach_archive, time_range
from tests.archive.conftest import DAY_US, T0, make_events


def test_an_empty_archive_reads_as_no_rows_with_the_columns(archive: Archive) -> None:
    con = duckdb.connect()
    relation = attach_archive(con, archive)
    assert con.execute(f"SELECT count(*) FROM {relation}").fetchone() == (0,)
    assert len(con.execute(f"SELECT * FROM {relation}").description) == 20
    assert time_range(archive) is None


def test_a_one_day_range_reads_one_file(archive: Archive) -> None:
    sink = ArchiveSink(archive)
    sink.write(make_events(0, 30, step_us=DAY_US // 10), 30)  # 3 days, 10 events each
    sink.flush()
    assert time_range(archive) == TimeRange(T0, T0 + 29 * DAY_US // 10)
    con = duckdb.connect()
    relation = attach_archive(con, archive)
    query = (
        f"SELECT count(*) FROM {relation} "
        "WHERE timestamp >= TIMESTAMPTZ '2025-10-02 00:00:00+00' "
        "AND timestamp < TIMESTAMPTZ '2025-10-03 00:00:00+00'"
    )
    assert con.execute(query).fetchone() == (10,)
    plan = str(con.execute(f"EXPLAIN ANALYZE {query}").fetchall())
    assert "Total Files Read: 1" in plan
