"""One planner over both tiers: which relation answers a time range.

The hot store holds every event at or after its boundary ``B``
(``HotStore.archive_before``), and the events before ``B`` that the archive
had not committed when retention ran; the archive holds everything up to the
log offset ``A`` its current snapshot records. A range at or after ``B``
reads the hot store. An earlier range reads the archive's snapshot for
``[start, B)`` and, from the hot store, the rows at or after ``B`` plus those
the snapshot does not hold (``log_offset > A``) — so every event is read
exactly once, late ones included. Before the first hot retention there is no
boundary and everything is hot.
"""

from __future__ import annotations

import threading
from datetime import datetime

from streamgauge.archive import Archive, attach_archive
from streamgauge.archive.table import committed_offset
from streamgauge.model import COLUMN_NAMES
from streamgauge.pipeline.columns import names_sql, registered
from streamgauge.sinks.hot import HOT_TABLE, HotStore

HOT, ARCHIVE = "hot", "archive"
_COLUMNS = ", ".join(f'"{name}"' for name in COLUMN_NAMES)


class TierPlanner:
    """``relation_for(start, end) -> (relation SQL, tiers read)`` for the query engines."""

    def __init__(self, hot: HotStore, archive: Archive | None, *, offsets_match: bool) -> None:
        """``offsets_match``: the archive's committed offset and the hot rows' ``log_offset``
        count the same log (embedded). A query node of distributed mode numbers rows by
        stream sequence and the archive by partition: there, rows before the boundary
        come from the archive alone, and late ones appear once a sink commits them."""
        self.hot = hot
        self.archive = archive
        self.offsets_match = offsets_match
        self._lock = threading.Lock()  # an Archive (catalog session) is not thread-safe

    def relation_for(self, start: datetime, end: datetime) -> tuple[str, list[str]]:
        boundary = self.hot.archive_before()
        if boundary is None or self.archive is None or _micros(start) >= boundary:
            return "events", [HOT]
        with self._lock:
            scan = attach_archive(self.hot.connection, self.archive)
            archived_offset = committed_offset(self.archive.table)  # of the snapshot scanned
        cut = f"make_timestamptz({int(boundary)})"
        columns = _COLUMNS + names_sql(registered())  # the archive evolves with the columns
        archived = f'SELECT {columns} FROM {scan} WHERE "timestamp" < {cut}'
        if not self.offsets_match:
            if _micros(end) <= boundary:
                return f"({archived})", [ARCHIVE]
            recent = f'SELECT {columns} FROM events WHERE "timestamp" >= {cut}'
            return f"({archived} UNION ALL {recent})", [ARCHIVE, HOT]
        recent = (
            f'SELECT {columns} FROM {HOT_TABLE} WHERE "timestamp" >= {cut}'
            f" OR log_offset > {int(archived_offset)}"
        )
        return f"({archived} UNION ALL {recent})", [ARCHIVE, HOT]


def _micros(instant: datetime) -> int:
    return int(instant.timestamp()) * 1_000_000 + instant.microsecond
