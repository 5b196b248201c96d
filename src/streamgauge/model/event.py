"""The canonical Event: typed, named columns (DESIGN.md's column table).

An Event is what the log stores and every sink receives. Times are integers
(microseconds since the epoch, UTC) so the hot path never builds datetimes;
``properties`` and ``context`` are kept as JSON text, exactly as received.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import msgspec
import pyarrow as pa


class Event(msgspec.Struct, array_like=True, gc=False):
    """One canonical event. Field order is the log's storage order: append only."""

    project_id: str
    event_id: str
    event: str
    timestamp: int
    received_at: int
    user_id: str | None = None
    anonymous_id: str | None = None
    session_id: str | None = None
    organization_id: str | None = None
    duration_ms: float | None = None
    status_code: int | None = None
    error: str | None = None
    usage_quantity: float | None = None
    usage_unit: str | None = None
    usage_sku: str | None = None
    method: str | None = None
    path: str | None = None
    source: str = "native"
    properties: str | None = None
    context: str | None = None


@dataclass(frozen=True, slots=True)
class Column:
    """One column as SQL users see it."""

    name: str
    sql_type: str
    arrow_type: pa.DataType
    description: str


_TS = pa.timestamp("us", tz="UTC")

COLUMNS: Final[tuple[Column, ...]] = (
    Column("project_id", "VARCHAR", pa.string(), "the project whose key sent the event"),
    Column("event_id", "VARCHAR", pa.string(), "id/eventId/messageId, else a generated UUIDv7"),
    Column("event", "VARCHAR", pa.string(), "the event name"),
    Column("timestamp", "TIMESTAMPTZ", _TS, "when it happened (client time), UTC"),
    Column("received_at", "TIMESTAMPTZ", _TS, "when the server received it, UTC"),
    Column("user_id", "VARCHAR", pa.string(), "userId"),
    Column("anonymous_id", "VARCHAR", pa.string(), "anonymousId"),
    Column("session_id", "VARCHAR", pa.string(), "sessionId"),
    Column("organization_id", "VARCHAR", pa.string(), "organizationId"),
    Column("duration_ms", "DOUBLE", pa.float64(), "performance.duration in milliseconds"),
    Column("status_code", "INTEGER", pa.int32(), "performance.statusCode"),
    Column("error", "VARCHAR", pa.string(), "performance.error"),
    Column("usage_quantity", "DOUBLE", pa.float64(), "usage.quantity"),
    Column("usage_unit", "VARCHAR", pa.string(), "usage.unit"),
    Column("usage_sku", "VARCHAR", pa.string(), "usage.sku"),
    Column("method", "VARCHAR", pa.string(), "properties.method"),
    Column("path", "VARCHAR", pa.string(), "properties.route, else properties.path"),
    Column("source", "VARCHAR", pa.string(), "the wire format it came in"),
    Column("properties", "JSON", pa.string(), "properties, as JSON"),
    Column("context", "JSON", pa.string(), "context, as JSON"),
)

COLUMN_NAMES: Final[tuple[str, ...]] = tuple(c.name for c in COLUMNS)
assert Event.__struct_fields__ == COLUMN_NAMES, "Event fields and COLUMNS must agree"


def arrow_schema() -> pa.Schema:
    """The Arrow schema of a batch of events (JSON columns travel as text)."""
    return pa.schema([pa.field(c.name, c.arrow_type) for c in COLUMNS])


_SCHEMA: Final = arrow_schema()


def events_to_arrow(events: list[Event]) -> pa.Table:
    """Columnar copy of ``events`` with the canonical schema."""
    return rows_to_arrow([msgspec.structs.astuple(e) for e in events])


def rows_to_arrow(rows: Sequence[Sequence[Any]]) -> pa.Table:
    """Events given as value sequences in column order (how the log stores them) → Arrow."""
    values_by_column = list(zip(*rows, strict=True)) if rows else [() for _ in COLUMNS]
    arrays = [
        pa.array(values, type=pa.int64()).cast(_TS)
        if column.arrow_type == _TS
        else pa.array(values, type=column.arrow_type)
        for column, values in zip(COLUMNS, values_by_column, strict=True)
    ]
    return pa.Table.from_arrays(arrays, schema=_SCHEMA)


def create_table_sql(table: str = "events") -> str:
    """DuckDB DDL for a table holding events with the canonical columns."""
    body = ",\n  ".join(f'"{c.name}" {c.sql_type}' for c in COLUMNS)
    return f'CREATE TABLE IF NOT EXISTS "{table}" (\n  {body}\n)'
