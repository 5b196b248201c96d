"""The archive tier: every event in the Apache Iceberg table ``streamgauge.events``."""

from streamgauge.archive import compaction
from streamgauge.archive.errors import ArchiveConflict
from streamgauge.archive.settings import ArchiveSettings
from streamgauge.archive.sink import ArchiveSink, FlushStats
from streamgauge.archive.table import OFFSET_PROPERTY, Archive, committed_offset

__all__ = [
    "OFFSET_PROPERTY",
    "Archive",
    "ArchiveConflict",
    "ArchiveSettings",
    "ArchiveSink",
    "FlushStats",
    "committed_offset",
    "compaction",
]
