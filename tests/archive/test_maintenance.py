"""Compaction, snapshot expiry, orphan removal, retention: rows and offsets survive."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from datetime import date
from pathlib import Path

import pytest
from pyiceberg.manifest import DataFile

from streamgauge.archive import Archive, ArchiveSettings, ArchiveSink, compaction
from streamgauge.archive.compaction import compact
from streamgauge.archive.maintenance import apply_retention, expire_snapshots, status
from streamgauge.archive.orphans import referenced_files, remove_orphans
from tests.archive.conftest import T0, duckdb_event_ids, ids, make_events

HOUR_US = 3_600_000_000


def _fill(archive: Archive, batches: int, per_batch: int = 8) -> ArchiveSink:
    """``batches`` commits of ``per_batch`` events, one every 45 min from T0 (event n at n×45 min).

    With 6 batches: 2025-10-01 holds e1..e31 in 4 files, 2025-10-02 e32..e48 in 3.
    """
    sink = ArchiveSink(archive)
    for b in range(batches):
        first = 1 + b * per_batch
        sink.write(make_events(first, per_batch, step_us=HOUR_US * 3 // 4), first + per_batch - 1)
        sink.flush()
    return sink


def _disk_files(archive: Archive) -> set[str]:
    root = Path(str(archive.settings.warehouse).removeprefix("file://"))
    return {str(p) for p in root.rglob("*") if p.is_file()}


def test_compaction_keeps_every_event_and_the_offset_and_merges_files(archive: Archive) -> None:
    _fill(archive, batches=6)
    before = status(archive)
    assert [(p.day, p.files, p.events) for p in before.partitions] == [
        (date(2025, 10, 1), 4, 31),
        (date(2025, 10, 2), 3, 17),
    ]
    result = compact(archive, min_files=2)
    assert [(p.day, p.files_before, p.files_after, p.events) for p in result.partitions] == [
        (date(2025, 10, 1), 4, 1, 31),
        (date(2025, 10, 2), 3, 1, 17),
    ]
    after = status(archive)
    assert (after.data_files, after.events, after.committed_offset) == (2, 48, 48)
    assert duckdb_event_ids(archive) == ids(1, 48)
    assert compact(archive, min_files=2).partitions == []


def test_compaction_rebased_on_a_concurrent_commit_carries_the_newest_offset(
    archive: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    sink = _fill(archive, batches=4)  # offsets up to 32, all on 2025-10-01
    write_files = compaction._write_files

    def write_then_let_the_sink_commit(*args: object, **kwargs: object) -> list[DataFile]:
        written = write_files(*args, **kwargs)  # type: ignore[arg-type]
        # A sink commit lands on another day while compaction is between read and commit.
        sink.write(make_events(100, 2, step_us=HOUR_US * 24), 40)
        sink.flush()
        return written

    monkeypatch.setattr(compaction, "_write_files", write_then_let_the_sink_commit)
    result = compact(archive, day=date(2025, 10, 1), min_files=2)
    assert [(p.files_before, p.files_after) for p in result.partitions] == [(4, 1)]
    assert archive.committed_offset() == 40
    assert ArchiveSink(Archive(archive.settings)).committed_offset() == 40
    assert duckdb_event_ids(archive) == sorted([*ids(1, 32), "e100", "e101"])


CRASH_IN_COMPACTION = textwrap.dedent(
    """
    import os, sys
    from pyiceberg.table import Transaction
    from streamgauge.archive import Archive, ArchiveSettings
    from streamgauge.archive.compaction import compact

    Transaction.commit_transaction = lambda self: os._exit(9)
    compact(Archive(ArchiveSettings(), sys.argv[1]), min_files=2)
    """
)


def test_a_crash_during_compaction_leaves_a_readable_table(
    archive: Archive, data_dir: Path
) -> None:
    _fill(archive, batches=3)
    crashed = subprocess.run([sys.executable, "-c", CRASH_IN_COMPACTION, str(data_dir)])
    assert crashed.returncode == 9
    assert duckdb_event_ids(archive) == ids(1, 24)
    assert status(archive).data_files == 3
    assert compact(archive, min_files=2).partitions[0].files_after == 1
    assert (archive.committed_offset(), duckdb_event_ids(archive)) == (24, ids(1, 24))


def test_expiry_then_orphan_removal_never_breaks_reads(archive: Archive) -> None:
    _fill(archive, batches=4)
    compact(archive, min_files=2)
    snapshots_before = len(archive.refresh().metadata.snapshots)
    assert snapshots_before == 5
    expired = expire_snapshots(archive, keep=1, max_age_s=0, now=time.time() + 1)
    assert len(expired) == 4
    assert duckdb_event_ids(archive) == ids(1, 32)
    result = remove_orphans(archive, min_age_s=0, now=time.time() + 1)
    assert len([p for p in result.deleted if p.endswith(".parquet")]) == 4
    assert _disk_files(archive) == referenced_files(archive.refresh())
    assert duckdb_event_ids(archive) == ids(1, 32)
    assert archive.committed_offset() == 32


def test_expiry_keeps_the_newest_snapshots_and_young_ones(archive: Archive) -> None:
    _fill(archive, batches=3)
    assert expire_snapshots(archive, keep=2, max_age_s=0, now=time.time() + 1) != []
    assert len(archive.refresh().metadata.snapshots) == 2
    assert expire_snapshots(archive, keep=1, max_age_s=3600) == []


def test_orphan_removal_spares_the_files_of_a_write_in_flight(archive: Archive) -> None:
    _fill(archive, batches=1)
    in_flight = archive.refresh().transaction()
    in_flight.append(make_events(9, 4))  # files written, commit not yet made
    assert remove_orphans(archive, min_age_s=3600).deleted == []
    later = remove_orphans(archive, min_age_s=3600, now=time.time() + 7200)
    assert len([p for p in later.deleted if p.endswith(".parquet")]) == 1
    assert duckdb_event_ids(archive) == ids(1, 8)


def test_retention_drops_whole_old_days_and_keeps_the_offset(archive: Archive) -> None:
    _fill(archive, batches=6)  # 2025-10-01: e1..e31, 2025-10-02: e32..e48
    now = T0 / 1e6 + 3 * 86_400 + 3600  # 2025-10-04T01:00Z
    result = apply_retention(archive, retention_s=2 * 86_400, now=now)
    assert (result.days, result.events) == ([date(2025, 10, 1)], 31)
    assert duckdb_event_ids(archive) == ids(32, 17)
    assert archive.committed_offset() == 48
    assert apply_retention(archive, retention_s=2 * 86_400, now=now).days == []


def test_retention_is_off_by_default(archive: Archive) -> None:
    _fill(archive, batches=1)
    assert apply_retention(archive).days == []
    assert ArchiveSettings().archive_retention_s is None


def test_maintenance_carries_every_partition_position_and_expiry_keeps_their_lineage(
    archive: Archive,
) -> None:
    """Distributed mode commits one ``streamgauge.*`` position per log partition."""
    for n, key in enumerate(("streamgauge.jetstream-offset.0", "streamgauge.jetstream-offset.1")):
        transaction = archive.refresh().transaction()
        transaction.append(make_events(1 + 8 * n, 8), snapshot_properties={key: str(10 + n)})
        transaction.commit_transaction()
    compact(archive, min_files=2)
    head = archive.refresh().current_snapshot()
    assert head is not None and head.summary is not None
    assert {k: v for k, v in head.summary.additional_properties.items() if "offset" in k} == {
        "streamgauge.jetstream-offset.0": "10",
        "streamgauge.jetstream-offset.1": "11",
    }
    before = [s.snapshot_id for s in archive.refresh().metadata.snapshots]
    expire_snapshots(archive, keep=1, max_age_s=0, now=time.time() + 1)
    assert [s.snapshot_id for s in archive.refresh().metadata.snapshots] == before[-1:]
    assert duckdb_event_ids(archive) == ids(1, 16)
