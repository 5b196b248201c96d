"""Archive sinks across processes: one sink per log partition, exactly once into Iceberg.

Each JetStream partition (subject ``<subject>.<n>``) has one archive sink,
``archive-p<n>``, run by whichever sink node is given that partition. Its
offset is the stream sequence of the last message of partition ``n`` that the
table holds, kept in the snapshot summary under ``streamgauge.jetstream-offset.<n>``
— written in the same Iceberg commit as the events, so data and offset land
together or not at all.

Several sinks commit to one table concurrently. Every commit carries forward
the offsets of all partitions from the snapshot it is based on (so expiring
old snapshots never loses a partition's offset), and pyiceberg retries a
commit that lost the race by rebuilding it on the new head; the summary is
computed at that moment (``PartitionOffsets``), after checking that this
partition's offset on the head is still the one the sink started from. If it
is not, another writer committed this partition (a second sink given the same
partition, or a commit that landed though its answer was lost): the sink
drops its buffer and resumes from the table's offset, so nothing is written
twice. A sink that dies between writing files and committing leaves files no
snapshot references; the maintenance job's orphan removal deletes them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Final

from pyiceberg.table import Table

from streamgauge.archive import Archive, ArchiveConflict, ArchiveSink
from streamgauge.types import Offset

OFFSET_PREFIX: Final = "streamgauge.jetstream-offset."


def partition_offsets(table: Table, partitions: int) -> dict[int, Offset]:
    """The committed offset of each partition, walking back from the current snapshot."""
    found: dict[int, Offset] = {}
    metadata = table.metadata
    snapshot = metadata.current_snapshot()
    while snapshot is not None and len(found) < partitions:
        summary = snapshot.summary
        properties = summary.additional_properties if summary is not None else {}
        for key, value in properties.items():
            if key.startswith(OFFSET_PREFIX):
                found.setdefault(int(key.removeprefix(OFFSET_PREFIX)), int(value))
        parent = snapshot.parent_snapshot_id
        snapshot = metadata.snapshot_by_id(parent) if parent is not None else None
    return found


class PartitionOffsets(Mapping[str, str]):
    """Snapshot properties computed when pyiceberg builds the summary (also on retries)."""

    def __init__(
        self, table: Table, partitions: int, partition: int, *, new: Offset, expected: Offset
    ) -> None:
        self._table = table
        self._partitions = partitions
        self._partition = partition
        self._new = new
        self._expected = expected

    def _values(self) -> dict[str, str]:
        offsets = partition_offsets(self._table, self._partitions)
        found = offsets.get(self._partition, 0)
        if found != self._expected:
            raise ArchiveConflict(
                f"another writer committed log partition {self._partition} to the archive",
                details={"expected_offset": self._expected, "found_offset": found},
            )
        offsets[self._partition] = self._new
        return {f"{OFFSET_PREFIX}{p}": str(o) for p, o in sorted(offsets.items())}

    def __getitem__(self, key: str) -> str:
        return self._values()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values())

    def __len__(self) -> int:
        return len(self._values())


class PartitionArchiveSink(ArchiveSink):
    """The archive sink of one log partition."""

    def __init__(self, archive: Archive, partition: int, partitions: int) -> None:
        super().__init__(archive)
        self.name = f"archive-p{partition}"
        self.partition = partition
        self.partitions = partitions
        self._committed = self._table_offset()
        self._position = self._committed

    def _table_offset(self) -> Offset:
        offsets = partition_offsets(self.archive.refresh(), self.partitions)
        return offsets.get(self.partition, 0)

    def snapshot_summary(self, table: Table) -> Mapping[str, str]:
        return PartitionOffsets(
            table, self.partitions, self.partition, new=self._position, expected=self._committed
        )

    def conflicted(self) -> None:
        # Another writer committed this partition: what it wrote is in the table, so the
        # buffer goes and the sink resumes from the table's offset.
        self._drop_buffer()
        self._committed = self._position = self._table_offset()
