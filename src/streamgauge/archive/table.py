"""The Iceberg table ``streamgauge.events``: its schema, layout, and committed log offset.

The table mirrors :data:`streamgauge.model.COLUMNS` (timestamps as ``timestamptz``
in microseconds, JSON columns as strings), is partitioned by ``day(timestamp)``
and declares a ``(project_id, timestamp)`` sort order, which streamgauge's own
writes follow so Parquet statistics prune by project inside a day.

Exactly-once lives here: every snapshot streamgauge commits carries the log
offset it covers in its summary (:data:`OFFSET_PROPERTY`), and
:func:`committed_offset` reads it back from the current snapshot.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Final

import pyarrow as pa
from pyiceberg.catalog import Catalog
from pyiceberg.exceptions import NamespaceAlreadyExistsError, TableAlreadyExistsError
from pyiceberg.expressions import BooleanExpression, GreaterThanOrEqual, LessThan, Reference
from pyiceberg.expressions.literals import literal
from pyiceberg.partitioning import PartitionField, PartitionSpec
from pyiceberg.schema import Schema
from pyiceberg.table import Table
from pyiceberg.table.snapshots import Snapshot
from pyiceberg.table.sorting import SortField, SortOrder
from pyiceberg.transforms import DayTransform, IdentityTransform
from pyiceberg.types import (
    DoubleType,
    IcebergType,
    IntegerType,
    NestedField,
    StringType,
    TimestamptzType,
)

from streamgauge.archive.errors import ArchiveConflict
from streamgauge.archive.settings import ArchiveSettings
from streamgauge.archive.storage import open_catalog
from streamgauge.model import COLUMNS

NAMESPACE: Final = "streamgauge"
TABLE_NAME: Final = "events"
IDENTIFIER: Final = (NAMESPACE, TABLE_NAME)
OFFSET_PROPERTY: Final = "streamgauge.log-offset"
"""Snapshot summary key holding the last log offset the table contains."""
CARRIED_PREFIX: Final = "streamgauge."
"""Summary keys with this prefix are log positions (``streamgauge.log-offset``, or one
per partition in distributed mode); maintenance commits carry all of them forward."""

_ICEBERG_TYPES: Final[dict[pa.DataType, IcebergType]] = {
    pa.string(): StringType(),
    pa.timestamp("us", tz="UTC"): TimestamptzType(),
    pa.float64(): DoubleType(),
    pa.int32(): IntegerType(),
}


def iceberg_schema() -> Schema:
    """The table schema: one optional field per canonical column, ids from 1 in order."""
    return Schema(
        *(
            NestedField(field_id=i, name=c.name, field_type=_ICEBERG_TYPES[c.arrow_type])
            for i, c in enumerate(COLUMNS, start=1)
        )
    )


def _field_id(name: str) -> int:
    return 1 + [c.name for c in COLUMNS].index(name)


TIMESTAMP_FIELD_ID: Final = _field_id("timestamp")


def partition_spec() -> PartitionSpec:
    """``day(timestamp)`` only.

    ``identity(project_id)`` was measured (bench/bench_archive.py --by-project,
    1 M events, 90 days, 20 projects, 25k-event commits): 20x the files (2,580
    vs 129), 3.5x slower writes, and a slower one-day query for one project
    (318 vs 18 ms), because the (project_id, timestamp) sort already lets
    Parquet statistics skip other projects inside a day file.
    """
    return PartitionSpec(
        PartitionField(
            source_id=TIMESTAMP_FIELD_ID, field_id=1000, transform=DayTransform(), name="day"
        )
    )


def sort_order() -> SortOrder:
    """Rows sorted by project then time inside a file: tight min/max stats for both."""
    return SortOrder(
        SortField(source_id=_field_id("project_id"), transform=IdentityTransform()),
        SortField(source_id=TIMESTAMP_FIELD_ID, transform=IdentityTransform()),
    )


def table_properties(settings: ArchiveSettings) -> dict[str, str]:
    """Table properties other engines honour too (codec, file size, metadata pruning)."""
    return {
        "write.format.default": "parquet",
        "write.parquet.compression-codec": "zstd",
        "write.parquet.compression-level": "3",
        # pyiceberg bins by in-memory Arrow bytes (about 6x the zstd Parquet size
        # for events), so one micro-batch becomes one file per day it touches.
        "write.target-file-size-bytes": str(settings.target_file_size * 6),
        # Readers open every manifest: merge them so a commit every minute does not
        # leave thousands (pyiceberg's own appends use fast append otherwise).
        "commit.manifest-merge.enabled": "true",
        "commit.manifest.min-count-to-merge": "32",
        "write.metadata.delete-after-commit.enabled": "true",
        "write.metadata.previous-versions-max": "20",
    }


def create_or_load(catalog: Catalog, settings: ArchiveSettings) -> Table:
    """Load ``streamgauge.events``, creating namespace and table on first use."""
    with contextlib.suppress(NamespaceAlreadyExistsError):
        catalog.create_namespace(NAMESPACE)
    if catalog.table_exists(IDENTIFIER):
        return catalog.load_table(IDENTIFIER)
    try:
        return catalog.create_table(
            IDENTIFIER,
            schema=iceberg_schema(),
            partition_spec=partition_spec(),
            sort_order=sort_order(),
            properties=table_properties(settings),
        )
    except TableAlreadyExistsError:  # another process created it first
        return catalog.load_table(IDENTIFIER)


def timestamp_before(moment: datetime) -> BooleanExpression:
    """The pyiceberg predicate ``timestamp < moment``."""
    return LessThan(term=Reference("timestamp"), value=literal(moment.isoformat()))


def timestamp_at_or_after(moment: datetime) -> BooleanExpression:
    """The pyiceberg predicate ``timestamp >= moment``."""
    return GreaterThanOrEqual(term=Reference("timestamp"), value=literal(moment.isoformat()))


def committed_offset(table: Table) -> int:
    """The log offset of the newest snapshot that records one (0: none).

    Walks back from the current snapshot so a commit by another engine (which
    does not write the property) does not lose the offset.
    """
    value = carried_positions(table).get(OFFSET_PROPERTY)
    return int(value) if value is not None else 0


def ancestors(table: Table) -> Iterator[Snapshot]:
    """The current snapshot, then its parents while they are still in the metadata."""
    metadata = table.metadata
    snapshot = metadata.current_snapshot()
    while snapshot is not None:
        yield snapshot
        parent = snapshot.parent_snapshot_id
        snapshot = metadata.snapshot_by_id(parent) if parent is not None else None


def _positions(snapshot: Snapshot) -> dict[str, str]:
    summary = snapshot.summary
    properties = summary.additional_properties if summary is not None else {}
    return {k: v for k, v in properties.items() if k.startswith(CARRIED_PREFIX)}


def carried_positions(table: Table) -> dict[str, str]:
    """The newest value of every ``streamgauge.*`` log position along the current lineage."""
    found: dict[str, str] = {}
    for snapshot in ancestors(table):
        for key, value in _positions(snapshot).items():
            found.setdefault(key, value)
    return found


def position_lineage(table: Table) -> set[int]:
    """Snapshot ids from the current one back to the newest holder of every position key.

    Expiring any of them could lose a committed log position, so expiry keeps them.
    """
    wanted = {k for s in table.metadata.snapshots for k in _positions(s)}
    chain: set[int] = set()
    for snapshot in ancestors(table):
        if not wanted:
            break
        chain.add(snapshot.snapshot_id)
        wanted -= _positions(snapshot).keys()
    return chain


class OffsetSummary(Mapping[str, str]):
    """Snapshot properties whose offset is computed when pyiceberg builds the summary.

    pyiceberg retries a conflicting commit by refreshing ``table`` and rebuilding
    the snapshot on the new head. A fixed offset copied before the retry could
    then move the offset *backwards* (compaction rebased onto a newer sink commit).
    So positions are read at summary time: maintenance (no ``new_offset``)
    carries every ``streamgauge.*`` position of the head's lineage forward; the
    sink writes ``new_offset`` only if the head still holds ``expected_base``
    (fencing a second writer).
    """

    def __init__(
        self, table: Table, *, new_offset: int | None = None, expected_base: int | None = None
    ) -> None:
        self._table = table
        self._new_offset = new_offset
        self._expected_base = expected_base

    def __getitem__(self, key: str) -> str:
        if self._new_offset is None:
            return carried_positions(self._table)[key]
        if key != OFFSET_PROPERTY:
            raise KeyError(key)
        head = committed_offset(self._table)
        if self._expected_base is not None and head != self._expected_base:
            raise ArchiveConflict(
                "another writer committed to the archive",
                details={"expected_offset": self._expected_base, "found_offset": head},
            )
        return str(self._new_offset)

    def __iter__(self) -> Iterator[str]:
        if self._new_offset is None:
            return iter(carried_positions(self._table))
        return iter((OFFSET_PROPERTY,))

    def __len__(self) -> int:
        return sum(1 for _ in self)


class Archive:
    """A handle on the archive: resolved settings, catalog, and the table."""

    def __init__(self, settings: ArchiveSettings, data_dir: Path | str | None = None) -> None:
        if data_dir is not None:
            settings = settings.resolved(data_dir)
        self.settings = settings.validate()
        self.catalog = open_catalog(self.settings)
        self._table = create_or_load(self.catalog, self.settings)

    @property
    def table(self) -> Table:
        """The table as of the last :meth:`refresh` (or open)."""
        return self._table

    def refresh(self) -> Table:
        """Reload the table's current metadata from the catalog and return it."""
        self._table = self.catalog.load_table(IDENTIFIER)
        return self._table

    def committed_offset(self) -> int:
        """The log offset covered by the current snapshot, freshly read from the catalog."""
        return committed_offset(self.refresh())

    @property
    def metadata_location(self) -> str:
        """The current ``vN.metadata.json`` (what external readers open)."""
        return self._table.metadata_location
