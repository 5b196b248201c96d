"""The ``sql`` transform: a DuckDB SELECT over each micro-batch, under the /sql guard.

The statement passes the same guard as ``/sql`` (``query.sql_guard``: one
SELECT over the ``events`` view, no file, network or settings functions) and
runs in the same locked-down engine (``query.sandbox``) with a deadline. It
sees the batch's events with the canonical columns and answers rows that carry
``event_id``: events it leaves out are discarded, and each column it returns
replaces the event's value (identity and time columns excepted). A failing
statement rejects the batch's events to the dead-letter store rather than let
them through untransformed (the statement may be what removes PII).
"""

from __future__ import annotations

import threading
from typing import Any

import duckdb
import pyarrow as pa

from streamgauge.errors import StreamgaugeError
from streamgauge.model import Event, events_to_arrow
from streamgauge.model.event import COLUMN_NAMES
from streamgauge.pipeline.config import PROTECTED_COLUMNS, SqlTransform
from streamgauge.pipeline.draft import coerce_column
from streamgauge.query.sandbox import SqlLimits, deadline, lock, open_sandbox
from streamgauge.query.sql_guard import VIEW, parse_user_sql

_WRITABLE = tuple(c for c in COLUMN_NAMES if c not in PROTECTED_COLUMNS)


def check_query(query: str) -> None:
    """Config-time check: the guard accepts it. ValueError names what is wrong."""
    try:
        statement = parse_user_sql(query, "duckdb")
    except StreamgaugeError as error:
        raise ValueError(f"sql transform: {error.message}") from None
    if statement.explain:
        raise ValueError("sql transform: EXPLAIN answers no events")


class SqlFailed(Exception):
    """The statement failed on a batch; its events go to the dead-letter store."""


class SqlStep:
    kind = "sql"

    def __init__(self, config: SqlTransform, *, timeout_s: float = 5.0) -> None:
        self.statement = parse_user_sql(config.query, "duckdb")
        self.timeout_s = timeout_s
        self._lock = threading.Lock()  # one sandbox, one batch at a time
        self._con = open_sandbox(SqlLimits(timeout_s=timeout_s, memory_limit="256MB", threads=1))
        lock(self._con)

    def run(self, events: list[Event]) -> list[Event]:
        """The batch after the statement: kept events, in the order the statement gave."""
        if not events:
            return events
        batch = events_to_arrow(events)
        with self._lock:
            try:
                self._con.register(VIEW, batch)
                with deadline(self._con, self.timeout_s):
                    result = self._con.execute(self.statement.sql).to_arrow_table()
            except (duckdb.Error, StreamgaugeError) as error:
                raise SqlFailed(f"sql transform failed: {error}") from None
            finally:
                self._con.unregister(VIEW)
        return _apply(events, result)

    def close(self) -> None:
        self._con.close()


def _apply(events: list[Event], result: pa.Table) -> list[Event]:
    if "event_id" not in result.column_names:
        raise SqlFailed("sql transform: the statement must return event_id")
    by_id = {e.event_id: e for e in events}
    replaced = [c for c in result.column_names if c in _WRITABLE]
    kept: list[Event] = []
    for row in result.select(["event_id", *replaced]).to_pylist():
        event = by_id.pop(row["event_id"], None)
        if event is None:
            continue  # an id the batch does not hold (or a second row of one): not an event
        for column in replaced:
            setattr(event, column, _value(column, row[column]))
        kept.append(event)
    return kept


def _value(column: str, value: Any) -> Any:
    if column in ("properties", "context"):
        if value is None or isinstance(value, str):
            return value
        import msgspec

        return msgspec.json.encode(value).decode()
    return coerce_column(column, value)
