"""Archive maintenance the CLI and the scheduler call: status, expiry, retention, all-in-one.

Every operation is one Iceberg commit (or, for orphan removal, deletions of
unreferenced files only), so a crash at any point leaves a readable table.
Commits that change data carry the log offset forward (:class:`OffsetSummary`).
Compaction and orphan removal live in their own modules.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

from streamgauge.archive.compaction import EPOCH, CompactionResult, compact
from streamgauge.archive.orphans import OrphanResult, remove_orphans
from streamgauge.archive.reading import TimeRange, current_data_files, time_range
from streamgauge.archive.table import (
    Archive,
    OffsetSummary,
    committed_offset,
    position_lineage,
    timestamp_before,
)


@dataclass(frozen=True, slots=True)
class PartitionStatus:
    """One day partition of the current snapshot."""

    day: date
    files: int
    bytes: int
    events: int


@dataclass(frozen=True, slots=True)
class ArchiveStatus:
    """What ``streamgauge archive status`` prints."""

    metadata_location: str
    committed_offset: int
    snapshots: int
    current_snapshot_id: int | None
    data_files: int
    bytes: int
    events: int
    partitions: list[PartitionStatus]
    time_range: TimeRange | None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (dates as ISO-8601)."""
        body = asdict(self)
        for partition in body["partitions"]:
            partition["day"] = partition["day"].isoformat()
        return body


def status(archive: Archive) -> ArchiveStatus:
    """Snapshots, files, sizes, partitions and the last committed offset."""
    table = archive.refresh()
    by_day: dict[date, list[int]] = defaultdict(lambda: [0, 0, 0])
    for data_file in current_data_files(table):
        day_number = data_file.partition[0]
        day = EPOCH + timedelta(days=int(day_number)) if day_number is not None else EPOCH
        totals = by_day[day]
        totals[0] += 1
        totals[1] += data_file.file_size_in_bytes
        totals[2] += data_file.record_count
    partitions = [PartitionStatus(d, *by_day[d]) for d in sorted(by_day)]
    snapshot = table.current_snapshot()
    return ArchiveStatus(
        metadata_location=table.metadata_location,
        committed_offset=committed_offset(table),
        snapshots=len(table.metadata.snapshots),
        current_snapshot_id=snapshot.snapshot_id if snapshot else None,
        data_files=sum(p.files for p in partitions),
        bytes=sum(p.bytes for p in partitions),
        events=sum(p.events for p in partitions),
        partitions=partitions,
        time_range=time_range(archive),
    )


def expire_snapshots(
    archive: Archive,
    *,
    keep: int | None = None,
    max_age_s: float | None = None,
    now: float | None = None,
) -> list[int]:
    """Expire snapshots older than ``max_age_s`` beyond the newest ``keep``; return their ids.

    Never expires the current snapshot nor the lineage back to the newest
    snapshot recording each log position (:func:`position_lineage`). Only
    metadata changes (one commit); the files no longer referenced are deleted
    later by orphan removal.
    """
    keep = archive.settings.keep_snapshots if keep is None else keep
    max_age = archive.settings.snapshot_max_age_s if max_age_s is None else max_age_s
    cutoff_ms = ((time.time() if now is None else now) - max_age) * 1000
    table = archive.refresh()
    newest_first = sorted(table.metadata.snapshots, key=lambda s: s.timestamp_ms, reverse=True)
    protected = {s.snapshot_id for s in newest_first[:keep]} | position_lineage(table)
    expired = [
        s.snapshot_id
        for s in newest_first[keep:]
        if s.timestamp_ms < cutoff_ms and s.snapshot_id not in protected
    ]
    if expired:
        table.maintenance.expire_snapshots().by_ids(expired).commit()
    return expired


@dataclass(frozen=True, slots=True)
class RetentionResult:
    """Days dropped by archive retention and the events they held."""

    before: datetime | None
    days: list[date] = field(default_factory=list)
    events: int = 0


def apply_retention(
    archive: Archive, *, retention_s: float | None = None, now: float | None = None
) -> RetentionResult:
    """Delete whole day partitions older than ``archive_retention`` (None: keep all).

    The cut is rounded down to midnight UTC so files are dropped whole, never
    rewritten; the delete snapshot carries the log offset forward.
    """
    retention = archive.settings.archive_retention_s if retention_s is None else retention_s
    if retention is None:
        return RetentionResult(before=None)
    moment = datetime.fromtimestamp((time.time() if now is None else now) - retention, UTC)
    before = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    cutoff_day = (before.date() - EPOCH).days
    table = archive.refresh()
    doomed = [
        f
        for f in current_data_files(table)
        if f.partition[0] is not None and int(f.partition[0]) < cutoff_day
    ]
    if not doomed:
        return RetentionResult(before=before)
    transaction = table.transaction()
    transaction.delete(
        timestamp_before(before),
        snapshot_properties=cast(dict[str, str], OffsetSummary(table)),
    )
    transaction.commit_transaction()
    days = sorted({EPOCH + timedelta(days=int(f.partition[0])) for f in doomed})
    return RetentionResult(before=before, days=days, events=sum(f.record_count for f in doomed))


@dataclass(frozen=True, slots=True)
class MaintenanceReport:
    """One scheduled maintenance pass."""

    retention: RetentionResult
    compaction: CompactionResult
    expired_snapshots: list[int]
    orphans: OrphanResult


def run_maintenance(archive: Archive, *, now: float | None = None) -> MaintenanceReport:
    """Retention, compaction, snapshot expiry, then orphan removal, with the settings.

    Order matters: expiry after compaction unreferences the replaced small
    files, and orphan removal deletes them once past the safety age.
    """
    retention = apply_retention(archive, now=now)
    compaction = compact(archive)
    expired = expire_snapshots(archive, now=now)
    orphans = remove_orphans(archive, now=now)
    return MaintenanceReport(retention, compaction, expired, orphans)
