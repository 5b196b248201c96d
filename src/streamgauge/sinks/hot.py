"""The hot store: DuckDB holding recent events, fed from the log.

Rows live in ``hot_events``: the canonical columns plus ``log_offset``, the
offset of the log entry batch they came in (never shown to users: queries
read the view ``events``). The sink's log offset lives in ``sink_offsets`` and
is updated in the same transaction as the rows it covers, so a crash at any
point neither loses nor duplicates.

Hot retention moves the tier boundary: rows older than the retention leave
only once the archive has committed them (``log_offset`` ≤ the archive's
offset), and ``hot_state.archive_before`` records the instant before which
queries read the archive instead. Readers use cursors of the same connection:
DuckDB's MVCC gives them a consistent snapshot while the sink writes.
"""

from __future__ import annotations

import threading
from pathlib import Path

import duckdb
import pyarrow as pa

from streamgauge.model import COLUMN_NAMES, create_table_sql
from streamgauge.pipeline.columns import add_to_duckdb, names_sql, registered, select_sql
from streamgauge.sinks.base import Sink
from streamgauge.types import Micros, Offset

SINK_NAME = "hot"
HOT_TABLE = "hot_events"
_COLUMNS = ", ".join(f'"{name}"' for name in COLUMN_NAMES)


class HotStore(Sink):
    """DuckDB at ``<data-dir>/hot/hot.duckdb``."""

    name = SINK_NAME

    def __init__(self, path: Path, *, memory_limit: str = "4GB", threads: int = 0) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        config: dict[str, str | bool | int | float | list[str]] = {"memory_limit": memory_limit}
        if threads:
            config["threads"] = threads
        self._con = duckdb.connect(str(path), config=config)
        self._con.execute(
            create_table_sql("hot_events").replace("\n)", ',\n  "log_offset" BIGINT\n)')
        )
        self._custom = registered()  # custom columns (pipeline.columns, enrichment)
        add_to_duckdb(self._con, "hot_events", self._custom)
        self._con.execute(
            f"CREATE OR REPLACE VIEW events AS SELECT {_COLUMNS}{names_sql(self._custom)}"
            " FROM hot_events"
        )
        self._con.execute(
            "CREATE TABLE IF NOT EXISTS sink_offsets (sink VARCHAR PRIMARY KEY, last_offset BIGINT)"
        )
        self._con.execute(
            "CREATE TABLE IF NOT EXISTS hot_state (key VARCHAR PRIMARY KEY, value BIGINT)"
        )
        self._writer = self._con.cursor()
        self._lock = threading.Lock()
        self._committed = self._read_offset()
        self._archive_before = self._read_state("archive_before")

    def _read_offset(self) -> Offset:
        row = self._con.execute(
            "SELECT last_offset FROM sink_offsets WHERE sink = ?", [SINK_NAME]
        ).fetchone()
        return int(row[0]) if row else 0

    def _read_state(self, key: str) -> int | None:
        row = self._con.execute("SELECT value FROM hot_state WHERE key = ?", [key]).fetchone()
        return int(row[0]) if row else None

    def committed_offset(self) -> Offset:
        return self._committed

    def archive_before(self) -> Micros | None:
        """Instants before this are read from the archive (None: the hot store has them all)."""
        return self._archive_before

    def write(self, events: pa.Table, last_offset: Offset) -> None:
        with self._lock:
            cur = self._writer
            cur.execute("BEGIN TRANSACTION")
            try:
                cur.register("incoming_events", events)
                cur.execute(
                    f'INSERT INTO hot_events ({_COLUMNS}, "log_offset"{names_sql(self._custom)})'
                    f" SELECT {_COLUMNS}, ?{select_sql(self._custom)} FROM incoming_events",
                    [last_offset],
                )
                cur.unregister("incoming_events")
                cur.execute(
                    "INSERT OR REPLACE INTO sink_offsets VALUES (?, ?)", [SINK_NAME, last_offset]
                )
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            self._committed = last_offset

    def move_to_archive(self, before: Micros, archived_offset: Offset) -> int:
        """Drop rows older than ``before`` that the archive holds; move the tier boundary.

        Rows older than ``before`` that the archive has not committed yet (late
        events) stay until it has; queries find them in the archive from then on.
        """
        with self._lock:
            cur = self._writer
            cur.execute("BEGIN TRANSACTION")
            try:
                row = cur.execute(
                    "DELETE FROM hot_events WHERE timestamp < make_timestamptz(?::BIGINT)"
                    " AND log_offset <= ?",
                    [before, archived_offset],
                ).fetchone()
                boundary = max(before, self._archive_before or before)
                cur.execute(
                    "INSERT OR REPLACE INTO hot_state VALUES ('archive_before', ?)", [boundary]
                )
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            self._archive_before = boundary
            return int(row[0]) if row else 0

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor for reading (one per thread or query)."""
        return self._con.cursor()

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        return self._con

    def close(self) -> None:
        with self._lock:
            self._writer.close()
            self._con.close()
