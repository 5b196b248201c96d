"""Reading the archive from outside pyiceberg: DuckDB access and the time range held.

The query planner asks :func:`attach_archive` for a relation it can put in a
``FROM`` clause; it is DuckDB's ``iceberg_scan`` over the *current* metadata
file (pyiceberg writes no ``version-hint.text``), which prunes day partitions
and files by their statistics. :func:`time_range` answers "which instants does
the archive hold" from manifest statistics alone, without reading Parquet.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
from pyiceberg.conversions import from_bytes
from pyiceberg.manifest import DataFile
from pyiceberg.table import Table
from pyiceberg.types import TimestamptzType

from streamgauge.archive.storage import configure_duckdb, local_path
from streamgauge.archive.table import TIMESTAMP_FIELD_ID, Archive
from streamgauge.model import COLUMNS
from streamgauge.types import Micros


@dataclass(frozen=True, slots=True)
class TimeRange:
    """The oldest and newest event timestamps in the archive (both inclusive, µs UTC)."""

    min_timestamp: Micros
    max_timestamp: Micros


def current_data_files(table: Table) -> list[DataFile]:
    """Every live data file of the table's current snapshot."""
    snapshot = table.current_snapshot()
    if snapshot is None:
        return []
    return [
        entry.data_file
        for manifest in snapshot.manifests(table.io)
        for entry in manifest.fetch_manifest_entry(table.io, discard_deleted=True)
    ]


def time_range(archive: Archive) -> TimeRange | None:
    """Min/max ``timestamp`` from file statistics in the manifests (None: empty archive)."""
    lows: list[int] = []
    highs: list[int] = []
    for data_file in current_data_files(archive.refresh()):
        if data_file.record_count == 0:
            continue
        low = data_file.lower_bounds.get(TIMESTAMP_FIELD_ID)
        high = data_file.upper_bounds.get(TIMESTAMP_FIELD_ID)
        if low is not None:
            lows.append(int(from_bytes(TimestamptzType(), low)))
        if high is not None:
            highs.append(int(from_bytes(TimestamptzType(), high)))
    if not lows or not highs:
        return None
    return TimeRange(min_timestamp=min(lows), max_timestamp=max(highs))


def scan_sql(metadata_location: str) -> str:
    """``iceberg_scan('<metadata file>')`` with the location quoted as a SQL literal."""
    quoted = local_path(metadata_location).replace("'", "''")
    return f"iceberg_scan('{quoted}')"


def attach_archive(con: duckdb.DuckDBPyConnection, archive: Archive) -> str:
    """Prepare ``con`` to read the archive and return a relation over its current snapshot.

    Loads the Iceberg extension (and an S3 secret for S3 warehouses). The
    returned SQL names one snapshot: call again to see later commits. Returns an
    empty relation with the canonical columns while the table has no snapshot.
    """
    configure_duckdb(con, archive.settings)
    table = archive.refresh()
    if table.current_snapshot() is None:
        return f"({_empty_relation_sql()})"
    return scan_sql(table.metadata_location)


def _empty_relation_sql() -> str:
    # iceberg_scan yields JSON columns as VARCHAR; the empty relation must match it.
    types = {c.name: "VARCHAR" if c.sql_type == "JSON" else c.sql_type for c in COLUMNS}
    columns = ", ".join(f'CAST(NULL AS {t}) AS "{name}"' for name, t in types.items())
    return f"SELECT {columns} WHERE false"
