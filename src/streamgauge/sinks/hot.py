"""The hot store: DuckDB holding recent events, fed from the log.

The sink's log offset lives in the table ``sink_offsets`` of the same
database and is updated in the same transaction as the rows it covers, so a
crash at any point neither loses nor duplicates. Appends are whole Arrow
batches. Readers (queries) use cursors of the same connection: DuckDB's MVCC
gives them a consistent snapshot while the sink writes.
"""

from __future__ import annotations

import threading
from pathlib import Path

import duckdb
import pyarrow as pa

from streamgauge.model import create_table_sql
from streamgauge.sinks.base import Sink
from streamgauge.types import Offset

SINK_NAME = "hot"


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
        self._con.execute(create_table_sql("events"))
        self._con.execute(
            "CREATE TABLE IF NOT EXISTS sink_offsets (sink VARCHAR PRIMARY KEY, last_offset BIGINT)"
        )
        self._writer = self._con.cursor()
        self._lock = threading.Lock()
        self._committed = self._read_offset()

    def _read_offset(self) -> Offset:
        row = self._con.execute(
            "SELECT last_offset FROM sink_offsets WHERE sink = ?", [SINK_NAME]
        ).fetchone()
        return int(row[0]) if row else 0

    def committed_offset(self) -> Offset:
        return self._committed

    def write(self, events: pa.Table, last_offset: Offset) -> None:
        with self._lock:
            cur = self._writer
            cur.execute("BEGIN TRANSACTION")
            try:
                cur.register("incoming_events", events)
                cur.execute("INSERT INTO events SELECT * FROM incoming_events")
                cur.unregister("incoming_events")
                cur.execute(
                    "INSERT OR REPLACE INTO sink_offsets VALUES (?, ?)", [SINK_NAME, last_offset]
                )
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            self._committed = last_offset

    def delete_before(self, cutoff_us: int) -> int:
        """Remove rows older than ``cutoff_us`` (the caller checked they are archived)."""
        with self._lock:
            row = self._writer.execute(
                "DELETE FROM events WHERE timestamp < make_timestamptz(?::BIGINT)", [cutoff_us]
            ).fetchone()
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
