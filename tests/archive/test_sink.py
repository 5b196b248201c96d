"""ArchiveSink: micro-batches, exactly-once offsets, independent readers."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from streamgauge.archive import Archive, ArchiveConflict, ArchiveSettings, ArchiveSink
from tests.archive.conftest import duckdb_event_ids, ids, make_events


def _data_files(data_dir: Path) -> list[Path]:
    return sorted(data_dir.glob("archive/warehouse/**/data/**/*.parquet"))


def test_a_commit_holds_the_events_and_their_offset(archive: Archive) -> None:
    sink = ArchiveSink(archive)
    sink.write(make_events(1, 30), 30)
    sink.write(make_events(31, 20), 50)
    assert (sink.position(), sink.committed_offset(), sink.buffered_events) == (50, 0, 50)
    sink.flush()
    assert (sink.committed_offset(), sink.buffered_events) == (50, 0)
    assert Archive(archive.settings).committed_offset() == 50
    assert duckdb_event_ids(archive) == ids(1, 50)


def test_wants_flush_on_count_or_age(data_dir: Path) -> None:
    now = [100.0]
    settings = ArchiveSettings(commit_interval_s=60, commit_max_events=10)
    sink = ArchiveSink(Archive(settings, data_dir), clock=lambda: now[0])
    assert not sink.wants_flush()
    sink.write(make_events(1, 9), 9)
    assert not sink.wants_flush()
    now[0] = 159.9
    assert not sink.wants_flush()
    now[0] = 160.0
    assert sink.wants_flush()
    sink.flush()
    sink.write(make_events(10, 10), 19)
    assert sink.wants_flush()


def test_a_replayed_range_is_not_written_twice(archive: Archive) -> None:
    sink = ArchiveSink(archive)
    sink.write(make_events(1, 10), 10)
    sink.flush()
    sink.write(make_events(1, 10), 10)
    sink.write(make_events(11, 5), 15)
    sink.flush()
    assert duckdb_event_ids(archive) == ids(1, 15)


def test_offsets_without_events_still_advance(archive: Archive) -> None:
    sink = ArchiveSink(archive)
    sink.write(make_events(1, 0), 7)
    sink.flush()
    assert archive.committed_offset() == 7


CRASH_BETWEEN_WRITE_AND_COMMIT = textwrap.dedent(
    """
    import os, sys
    from pyiceberg.table import Transaction
    from streamgauge.archive import Archive, ArchiveSettings, ArchiveSink
    from tests.archive.conftest import make_events

    sink = ArchiveSink(Archive(ArchiveSettings(), sys.argv[1]))
    sink.write(make_events(51, 50), 100)
    # Data files are written by append(); die before the catalog commit.
    Transaction.commit_transaction = lambda self: os._exit(9)
    sink.flush()
    """
)


def test_a_crash_between_writing_files_and_committing_loses_and_duplicates_nothing(
    archive: Archive, data_dir: Path
) -> None:
    sink = ArchiveSink(archive)
    sink.write(make_events(1, 50), 50)
    sink.flush()
    files_before = _data_files(data_dir)
    crashed = subprocess.run(
        [sys.executable, "-c", CRASH_BETWEEN_WRITE_AND_COMMIT, str(data_dir)], check=False
    )
    assert crashed.returncode == 9
    assert len(_data_files(data_dir)) > len(files_before), "the crashed write left its files"
    reopened = ArchiveSink(Archive(ArchiveSettings(), data_dir))
    assert reopened.committed_offset() == 50
    assert duckdb_event_ids(archive) == ids(1, 50)
    # The runner replays from the committed offset.
    reopened.write(make_events(51, 50), 100)
    reopened.flush()
    assert archive.committed_offset() == 100
    assert duckdb_event_ids(archive) == ids(1, 100)


def test_a_second_writer_is_fenced(archive: Archive) -> None:
    first, second = ArchiveSink(archive), ArchiveSink(Archive(archive.settings))
    first.write(make_events(1, 5), 5)
    first.flush()
    second.write(make_events(1, 5), 5)
    with pytest.raises(ArchiveConflict):
        second.flush()
    assert duckdb_event_ids(archive) == ids(1, 5)


PYICEBERG_READER = textwrap.dedent(
    """
    import json, sys
    from pyiceberg.catalog.sql import SqlCatalog
    # The SQL catalog keys tables by catalog name: it must be "streamgauge".
    catalog = SqlCatalog("streamgauge", uri=sys.argv[1], warehouse=sys.argv[2])
    table = catalog.load_table("streamgauge.events").scan().to_arrow()
    print(json.dumps({"ids": sorted(table["event_id"].to_pylist()),
                      "sum": sum(table["duration_ms"].to_pylist())}))
    """
)


def test_pyiceberg_in_another_process_reads_exactly_the_events_written(
    archive: Archive,
) -> None:
    sink = ArchiveSink(archive)
    for first in (1, 41, 81):
        sink.write(make_events(first, 40), first + 39)
        sink.flush()
    catalog_uri, warehouse = str(archive.settings.catalog_uri), str(archive.settings.warehouse)
    out = subprocess.run(
        [sys.executable, "-c", PYICEBERG_READER, catalog_uri, warehouse],
        check=True,
        capture_output=True,
        text=True,
    )
    assert json.loads(out.stdout) == {"ids": ids(1, 120), "sum": sum(n / 4 for n in range(1, 121))}
