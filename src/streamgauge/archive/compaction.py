"""Compaction: rewrite days' small files into target-size files in one atomic commit.

Micro-batch commits leave one small file per day touched per commit. For each
day partition holding at least ``compact_min_files`` files smaller than 3/4 of
``target_file_size``, compaction reads exactly those files, sorts their events
by ``(project_id, timestamp)``, writes new files of about ``target_file_size``
and commits *one* overwrite snapshot (for all days compacted) that removes the
old files and adds the new ones. That snapshot carries the current log offset forward, so the sink's
exactly-once resume point survives compaction.

A crash before the commit leaves the old files live and the new ones
unreferenced (orphan removal deletes them later); a commit that conflicts with
a concurrent write to the same day fails pyiceberg's validation and changes
nothing. Old files are never deleted here: they stay readable by older
snapshots until those expire, then orphan removal deletes them.
"""

from __future__ import annotations

import itertools
import math
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import cast

import pyarrow as pa
import pyarrow.parquet as pq
from pyiceberg.expressions import AlwaysFalse, And, BooleanExpression, Or
from pyiceberg.io.pyarrow import _dataframe_to_data_files
from pyiceberg.manifest import DataFile
from pyiceberg.table import Table

from streamgauge.archive.reading import current_data_files
from streamgauge.archive.sink import SORT_KEYS
from streamgauge.archive.table import (
    Archive,
    OffsetSummary,
    timestamp_at_or_after,
    timestamp_before,
)
from streamgauge.model import arrow_schema

EPOCH = date(1970, 1, 1)


@dataclass(frozen=True, slots=True)
class PartitionCompaction:
    """One day rewritten: how many files and bytes went in and came out."""

    day: date
    files_before: int
    files_after: int
    bytes_before: int
    bytes_after: int
    events: int


@dataclass(frozen=True, slots=True)
class CompactionResult:
    """Every day partition compacted by one :func:`compact` call."""

    partitions: list[PartitionCompaction] = field(default_factory=list)

    @property
    def files_removed(self) -> int:
        return sum(p.files_before - p.files_after for p in self.partitions)


def small_files_by_day(table: Table, target_file_size: int) -> dict[date, list[DataFile]]:
    """Live data files under 3/4 of the target size, grouped by their day partition."""
    by_day: dict[date, list[DataFile]] = defaultdict(list)
    for data_file in current_data_files(table):
        day_number = data_file.partition[0]
        if day_number is None or data_file.file_size_in_bytes >= target_file_size * 3 // 4:
            continue
        by_day[EPOCH + timedelta(days=int(day_number))].append(data_file)
    return dict(by_day)


def compact(
    archive: Archive,
    *,
    day: date | None = None,
    target_file_size: int | None = None,
    min_files: int | None = None,
) -> CompactionResult:
    """Compact every day partition with enough small files (or only ``day``), in one commit.

    One commit for all days rather than one per day: each overwrite rewrites the
    manifests it touches and leaves a manifest of deleted entries, and readers
    open every manifest, so per-day commits made reads ~10x slower (measured).
    """
    target = target_file_size or archive.settings.target_file_size
    threshold = min_files or archive.settings.compact_min_files
    table = archive.refresh()
    chosen = {
        d: files
        for d, files in sorted(small_files_by_day(table, target).items())
        if (day is None or d == day) and len(files) >= threshold
    }
    if not chosen:
        return CompactionResult()
    done: list[PartitionCompaction] = []
    replaced: list[DataFile] = []
    added: list[DataFile] = []
    predicate: BooleanExpression = AlwaysFalse()
    for chosen_day, files in chosen.items():
        new_files, summary = _rewrite_day(table, chosen_day, files, target)
        replaced.extend(files)
        added.extend(new_files)
        done.append(summary)
        start = datetime(chosen_day.year, chosen_day.month, chosen_day.day, tzinfo=UTC)
        in_day = And(timestamp_at_or_after(start), timestamp_before(start + timedelta(days=1)))
        predicate = Or(predicate, in_day)
    transaction = table.transaction()
    properties = cast(dict[str, str], OffsetSummary(table))
    with transaction.update_snapshot(snapshot_properties=properties).overwrite() as rewrite:
        # The predicate scopes manifest rewriting and conflict checks to these days.
        rewrite.delete_by_predicate(predicate)
        for data_file in replaced:
            rewrite.delete_data_file(data_file)
        for data_file in added:
            rewrite.append_data_file(data_file)
    transaction.commit_transaction()
    return CompactionResult(partitions=done)


def _read_events(table: Table, files: list[DataFile]) -> pa.Table:
    schema = arrow_schema()
    parts = []
    for data_file in files:
        with table.io.new_input(data_file.file_path).open() as stream:
            parts.append(pq.read_table(stream).select(schema.names).cast(schema))
    return pa.concat_tables(parts).sort_by(SORT_KEYS)


def _write_files(table: Table, events: pa.Table, bytes_in: int, target: int) -> list[DataFile]:
    """Write ``events`` as ~``target``-byte files, sized by the inputs' bytes per event."""
    count = max(1, math.ceil(bytes_in / target))
    per_file = math.ceil(events.num_rows / count)
    # One output file per slice: lift pyiceberg's Arrow-size split for this write only.
    metadata = table.metadata.model_copy(
        update={"properties": {**table.properties, "write.target-file-size-bytes": str(2**62)}}
    )
    write_uuid, counter = uuid.uuid4(), itertools.count(0)
    written: list[DataFile] = []
    for start in range(0, events.num_rows, per_file):
        written.extend(
            _dataframe_to_data_files(
                metadata, events.slice(start, per_file), table.io, write_uuid, counter
            )
        )
    return written


def _rewrite_day(
    table: Table, day: date, files: list[DataFile], target_file_size: int
) -> tuple[list[DataFile], PartitionCompaction]:
    """Write the events of ``files`` (all in partition ``day``) as target-size files."""
    events = _read_events(table, files)
    bytes_in = sum(f.file_size_in_bytes for f in files)
    new_files = _write_files(table, events, bytes_in, target_file_size)
    return new_files, PartitionCompaction(
        day=day,
        files_before=len(files),
        files_after=len(new_files),
        bytes_before=bytes_in,
        bytes_after=sum(f.file_size_in_bytes for f in new_files),
        events=events.num_rows,
    )
