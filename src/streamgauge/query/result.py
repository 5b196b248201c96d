"""The answer of every query path: typed columns, rows, and meta.

Rows are plain dicts (times as UTC ``datetime``); ``to_arrow`` rebuilds a
typed Arrow table for the binary formats. ``QueryResponse`` is the JSON shape
``{"columns", "data", "meta"}`` as a msgspec Struct, for encoding and schemas.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, Generic, TypeVar

import msgspec
import pyarrow as pa

ColumnType = str  # "timestamp" | "string" | "integer" | "double" | "boolean"

_ARROW: Final[dict[str, pa.DataType]] = {
    "timestamp": pa.timestamp("us", tz="UTC"),
    "string": pa.string(),
    "integer": pa.int64(),
    "double": pa.float64(),
    "boolean": pa.bool_(),
}


def column_type(arrow_type: pa.DataType) -> ColumnType:
    """The API's name for an Arrow type."""
    if pa.types.is_timestamp(arrow_type) or pa.types.is_date(arrow_type):
        return "timestamp"
    if pa.types.is_integer(arrow_type):
        return "integer"
    if pa.types.is_floating(arrow_type) or pa.types.is_decimal(arrow_type):
        return "double"
    if pa.types.is_boolean(arrow_type):
        return "boolean"
    return "string"


class ColumnInfo(msgspec.Struct):
    name: str
    type: str


class Meta(msgspec.Struct):
    rows: int
    elapsed_ms: float
    truncated: bool
    tiers: list[str]


RowT = TypeVar("RowT")


class QueryResponse(msgspec.Struct, Generic[RowT]):
    """The JSON body of ``/query`` and every template."""

    columns: list[ColumnInfo]
    data: list[RowT]
    meta: Meta


@dataclass(slots=True)
class QueryResult:
    columns: list[ColumnInfo]
    rows: list[dict[str, Any]]
    meta: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_arrow(cls, table: pa.Table, names: list[str] | None = None) -> QueryResult:
        """Rows from an Arrow table, optionally renaming its columns; times become UTC."""
        if names is not None:
            table = table.rename_columns(names)
        arrays = []
        for column in table.columns:
            if pa.types.is_timestamp(column.type):
                column = column.cast(pa.timestamp("us", tz="UTC"))
            arrays.append(column)
        table = pa.Table.from_arrays(arrays, names=table.column_names)
        columns = [ColumnInfo(f.name, column_type(f.type)) for f in table.schema]
        return cls(columns, table.to_pylist())

    def to_arrow(self) -> pa.Table:
        fields = [pa.field(c.name, _ARROW.get(c.type, pa.string())) for c in self.columns]
        schema = pa.schema(fields)
        return pa.Table.from_pylist(self.rows, schema=schema)

    def response(self) -> QueryResponse[dict[str, Any]]:
        return QueryResponse(self.columns, self.rows, Meta(**self.meta))

    def to_format(self, fmt: str) -> tuple[bytes, str]:
        """The body and media type in ``fmt`` (json, csv, ndjson, parquet, arrow)."""
        from .formats import render

        return render(self, fmt)


def utc(value: datetime) -> datetime:
    return value.astimezone(UTC)
