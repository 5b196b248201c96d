"""ArchiveSink: the log consumer that appends every event to ``streamgauge.events``.

Events are buffered and committed in micro-batches (``commit_max_events`` or
``commit_interval_s``, whichever comes first). Each commit is one Iceberg
snapshot whose summary records the log offset it covers, so the data and the
offset become visible together or not at all: after a crash the runner resumes
from :meth:`ArchiveSink.committed_offset` and re-writes exactly what is missing.
Files written by a commit that never landed are unreferenced; orphan removal
deletes them once they are older than ``orphan_min_age_s``.

One thread drives a sink (the sink runner); it holds no lock.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import cast

import pyarrow as pa
from pyiceberg.table import Table

from streamgauge.archive.errors import ArchiveConflict
from streamgauge.archive.table import Archive, OffsetSummary
from streamgauge.model import arrow_schema
from streamgauge.pipeline.columns import ColumnFiller, add_to_iceberg, registered
from streamgauge.sinks.base import Sink
from streamgauge.types import Offset

SORT_KEYS: list[tuple[str, str]] = [("project_id", "ascending"), ("timestamp", "ascending")]


@dataclass(frozen=True, slots=True)
class FlushStats:
    """What one commit wrote."""

    events: int
    offset: Offset
    snapshot_id: int | None
    seconds: float


class ArchiveSink(Sink):
    """Appends events to the Iceberg archive, committing the log offset with them."""

    name = "archive"

    def __init__(self, archive: Archive, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.archive = archive
        self._clock = clock
        self._canonical = arrow_schema()
        # Custom columns (pipeline.columns): the table evolves to hold them, each batch gets them.
        self._filler = ColumnFiller(registered())
        if add_to_iceberg(archive.table, self._filler.columns):
            archive.refresh()
        custom = [pa.field(c.name, c.arrow_type) for c in self._filler.columns]
        self._schema = pa.schema([*self._canonical, *custom])
        self._committed = archive.committed_offset()
        self._position = self._committed
        self._buffer: list[pa.Table] = []
        self._buffered_events = 0
        self._buffer_started: float | None = None
        self.last_flush: FlushStats | None = None

    def committed_offset(self) -> Offset:
        return self._committed

    def position(self) -> Offset:
        return self._position

    @property
    def buffered_events(self) -> int:
        """Events handed to ``write`` and not yet committed."""
        return self._buffered_events

    def write(self, events: pa.Table, last_offset: Offset) -> None:
        if last_offset <= self._position:
            # A replayed range this sink already holds: taking it again would duplicate.
            return
        if events.num_rows:
            canonical = events.select(self._canonical.names).cast(self._canonical)
            self._buffer.append(self._filler.fill(canonical).cast(self._schema))
            self._buffered_events += events.num_rows
        if self._buffer_started is None:
            self._buffer_started = self._clock()
        self._position = last_offset

    def wants_flush(self) -> bool:
        if self._position == self._committed:
            return False
        if self._buffered_events >= self.archive.settings.commit_max_events:
            return True
        started = self._buffer_started
        interval = self.archive.settings.commit_interval_s
        return started is not None and self._clock() - started >= interval

    def flush(self) -> None:
        if self._position == self._committed:
            return
        started = time.perf_counter()
        batch = pa.concat_tables(self._buffer) if self._buffer else self._schema.empty_table()
        batch = batch.sort_by(SORT_KEYS)
        table = self.archive.refresh()
        transaction = table.transaction()
        try:
            # pyiceberg types snapshot_properties as a dict; any Mapping is unpacked with **.
            summary = cast(dict[str, str], self.snapshot_summary(table))
            transaction.append(batch, snapshot_properties=summary)
            committed = transaction.commit_transaction()
        except ArchiveConflict:
            self.conflicted()
            raise
        snapshot = committed.current_snapshot()
        self._committed = self._position
        self._drop_buffer()
        self.last_flush = FlushStats(
            events=batch.num_rows,
            offset=self._committed,
            snapshot_id=snapshot.snapshot_id if snapshot else None,
            seconds=time.perf_counter() - started,
        )

    def snapshot_summary(self, table: Table) -> Mapping[str, str]:
        """The summary properties of the commit: the log offset it covers, computed when
        pyiceberg builds the snapshot (again on a retried commit)."""
        return OffsetSummary(table, new_offset=self._position, expected_base=self._committed)

    def conflicted(self) -> None:
        """Another writer moved this sink's offset: the commit was refused (ArchiveConflict)."""

    def _drop_buffer(self) -> None:
        self._buffer.clear()
        self._buffered_events, self._buffer_started = 0, None

    def close(self) -> None:
        # Uncommitted events are dropped on purpose: the log replays them on next start.
        self._drop_buffer()
        self._position = self._committed
