"""One planner over both tiers: which relation answers a time range.

The hot store holds every event at or after its boundary ``B``
(``HotStore.archive_before``); the archive holds everything it has committed.
A range entirely at or after ``B`` reads the hot store; one entirely before it
reads the archive; one that straddles it reads the archive for ``[start, B)``
and the hot store for ``[B, end)`` — never both for the same rows. Before the
first hot retention there is no boundary and everything is hot.
"""

from __future__ import annotations

import threading
from datetime import datetime

from streamgauge.archive import Archive, attach_archive
from streamgauge.model import COLUMN_NAMES
from streamgauge.pipeline.columns import names_sql, registered
from streamgauge.sinks.hot import HotStore

HOT, ARCHIVE = "hot", "archive"
_COLUMNS = ", ".join(f'"{name}"' for name in COLUMN_NAMES)


class TierPlanner:
    """``relation_for(start, end) -> (relation SQL, tiers read)`` for the query engines."""

    def __init__(self, hot: HotStore, archive: Archive | None) -> None:
        self.hot = hot
        self.archive = archive
        self._lock = threading.Lock()  # an Archive (catalog session) is not thread-safe

    def relation_for(self, start: datetime, end: datetime) -> tuple[str, list[str]]:
        boundary = self.hot.archive_before()
        if boundary is None or self.archive is None or _micros(start) >= boundary:
            return "events", [HOT]
        with self._lock:
            scan = attach_archive(self.hot.connection, self.archive)
        cut = f"make_timestamptz({int(boundary)})"
        columns = _COLUMNS + names_sql(registered())  # the archive evolves with the columns
        archived = f'SELECT {columns} FROM {scan} WHERE "timestamp" < {cut}'
        if _micros(end) <= boundary:
            return f"({archived})", [ARCHIVE]
        recent = f'SELECT {columns} FROM events WHERE "timestamp" >= {cut}'
        return f"({archived} UNION ALL {recent})", [ARCHIVE, HOT]


def _micros(instant: datetime) -> int:
    return int(instant.timestamp()) * 1_000_000 + instant.microsecond
