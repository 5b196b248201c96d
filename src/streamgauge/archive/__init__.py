"""The archive tier: every event in the Apache Iceberg table ``streamgauge.events``.

Modules, in the order data flows: ``settings`` (what to configure), ``storage``
(catalog, file systems), ``table`` (schema, layout, committed offset), ``sink``
(the log consumer), ``compaction``, ``orphans`` and ``maintenance`` (keeping
the table healthy), ``reading`` (DuckDB access, time range), ``export``.
"""

from streamgauge.archive import compaction
from streamgauge.archive.compaction import CompactionResult, PartitionCompaction, compact
from streamgauge.archive.errors import ArchiveConflict
from streamgauge.archive.export import ExportFormat, ExportResult, export
from streamgauge.archive.maintenance import (
    ArchiveStatus,
    MaintenanceReport,
    PartitionStatus,
    RetentionResult,
    apply_retention,
    expire_snapshots,
    run_maintenance,
    status,
)
from streamgauge.archive.orphans import OrphanResult, remove_orphans
from streamgauge.archive.reading import TimeRange, attach_archive, time_range
from streamgauge.archive.settings import ArchiveSettings
from streamgauge.archive.sink import ArchiveSink, FlushStats
from streamgauge.archive.table import OFFSET_PROPERTY, Archive, committed_offset

__all__ = [
    "OFFSET_PROPERTY",
    "Archive",
    "ArchiveConflict",
    "ArchiveSettings",
    "ArchiveSink",
    "ArchiveStatus",
    "CompactionResult",
    "ExportFormat",
    "ExportResult",
    "FlushStats",
    "MaintenanceReport",
    "OrphanResult",
    "PartitionCompaction",
    "PartitionStatus",
    "RetentionResult",
    "TimeRange",
    "apply_retention",
    "attach_archive",
    "committed_offset",
    "compact",
    "compaction",
    "expire_snapshots",
    "export",
    "remove_orphans",
    "run_maintenance",
    "status",
    "time_range",
]
