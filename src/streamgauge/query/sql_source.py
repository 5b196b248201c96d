"""Where the rows of the SQL sandbox's ``events`` view come from.

The sandbox never sees a table: it sees one Arrow stream per scan, produced
here with the caller's mandatory project (and organization) filter already
applied, plus the column projection and time range derived from the query.
``HotEventSource`` reads the hot store through cursors of its one connection;
the archive tier plugs in through ``relation_for`` (the same time range →
relation mapping the query planner uses).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import duckdb
import pyarrow as pa

from streamgauge.model.event import COLUMNS
from streamgauge.pipeline.columns import registered

RelationFor = Callable[[datetime, datetime], tuple[str, list[str]]]
"""Maps ``[start, end)`` to (SQL relation holding the canonical columns, tier names)."""

_ARROW_TYPES = {c.name: c.arrow_type for c in COLUMNS}
_OPEN_START = datetime.fromisoformat("0001-01-01T00:00:00+00:00")
_OPEN_END = datetime.fromisoformat("9999-12-31T23:59:59+00:00")


@dataclass(frozen=True, slots=True)
class ScanRequest:
    """What one SQL request may read: the scope (mandatory) and what it needs."""

    project_id: str
    organization_id: str | None
    columns: tuple[str, ...]
    start: datetime | None = None
    """Inclusive lower bound on ``timestamp``; None: unbounded."""
    end: datetime | None = None
    """Inclusive upper bound on ``timestamp``; None: unbounded."""

    def __post_init__(self) -> None:
        unknown = [c for c in self.columns if c not in _arrow_types()]
        if unknown or not self.columns:
            raise ValueError(f"a scan needs canonical columns, got {list(self.columns)}")

    def arrow_schema(self) -> pa.Schema:
        types = _arrow_types()
        return pa.schema([pa.field(c, types[c]) for c in self.columns])


@dataclass(slots=True)
class EventStream:
    """One scan's Arrow stream, and what must be closed with it."""

    reader: pa.RecordBatchReader
    cursor: duckdb.DuckDBPyConnection | None = None

    def close(self) -> None:
        if self.cursor is not None:
            self.cursor.close()


class EventSource(Protocol):
    """Gives the sandbox the caller's rows, one fresh Arrow stream per scan."""

    def open_stream(self, scan: ScanRequest) -> EventStream:
        """A stream of ``scan.columns`` restricted to the scan's scope and range."""
        ...

    def tiers(self, scan: ScanRequest) -> list[str]:
        """The tiers that answer ``scan`` (for the response's meta)."""
        ...


def hot_relation(start: datetime, end: datetime) -> tuple[str, list[str]]:
    """The hot store's ``events`` table, whatever the range."""
    return "events", ["hot"]


class HotEventSource:
    """Filtered streams from the hot store's DuckDB connection (one cursor per scan)."""

    def __init__(
        self,
        connection: duckdb.DuckDBPyConnection,
        *,
        relation_for: RelationFor = hot_relation,
        batch_rows: int = 122_880,
    ) -> None:
        self._connection = connection
        self._relation_for = relation_for
        self._batch_rows = batch_rows
        self._lock = threading.Lock()

    def _relation(self, scan: ScanRequest) -> tuple[str, list[str]]:
        return self._relation_for(scan.start or _OPEN_START, scan.end or _OPEN_END)

    def tiers(self, scan: ScanRequest) -> list[str]:
        return self._relation(scan)[1]

    def open_stream(self, scan: ScanRequest) -> EventStream:
        relation, _ = self._relation(scan)
        sql, params = scan_sql(relation, scan)
        with self._lock:  # cursor() on a shared connection is not thread-safe
            cursor = self._connection.cursor()
        try:
            reader = cursor.execute(sql, params).to_arrow_reader(self._batch_rows)
        except BaseException:
            cursor.close()
            raise
        return EventStream(reader, cursor)


def scan_sql(relation: str, scan: ScanRequest) -> tuple[str, dict[str, Any]]:
    """The filtered, projected SELECT over ``relation``; every value is bound."""
    predicates = ["project_id = $project_id"]
    params: dict[str, Any] = {"project_id": scan.project_id}
    if scan.organization_id is not None:
        predicates.append("organization_id = $organization_id")
        params["organization_id"] = scan.organization_id
    if scan.start is not None:
        predicates.append('"timestamp" >= $start')
        params["start"] = scan.start
    if scan.end is not None:
        predicates.append('"timestamp" <= $end')
        params["end"] = scan.end
    known = _arrow_types()
    columns = ", ".join(f'"{c}"' for c in scan.columns if c in known)
    return f"SELECT {columns} FROM {relation} WHERE {' AND '.join(predicates)}", params


def projected(columns: Sequence[str]) -> tuple[str, ...]:
    """``columns`` in canonical order, deduplicated."""
    wanted = set(columns)
    return tuple(c for c in _arrow_types() if c in wanted)


def _arrow_types() -> dict[str, pa.DataType]:
    """Canonical then custom columns (pipeline.columns), in view order."""
    return {**_ARROW_TYPES, **{c.name: c.arrow_type for c in registered()}}
