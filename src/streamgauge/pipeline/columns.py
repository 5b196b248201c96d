"""Custom columns: property paths promoted to typed columns in every store and query path.

A column's value is a function of the event the log holds (after the pipeline),
computed where events are written: the hot store's INSERT and the archive's
micro-batch evaluate :func:`select_sql` over the canonical columns. So the log
and the Event stay as they are, old log entries replay into the new columns, and
a column added later is backfilled in the hot store from the JSON it reads.

The columns in force are registered once per process (``register``) by the
runtime from its settings; the hot store, the archive sink, the query DSL and
the SQL sandbox read them from here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import duckdb
import pyarrow as pa

from streamgauge.pipeline.config import PipelineSettings, enrichment_column_names

SQL_TYPES: Final = {
    "text": "VARCHAR", "integer": "BIGINT", "double": "DOUBLE", "boolean": "BOOLEAN",
    "timestamp": "TIMESTAMPTZ",
}  # fmt: skip
ARROW_TYPES: Final[dict[str, pa.DataType]] = {
    "text": pa.string(), "integer": pa.int64(), "double": pa.float64(), "boolean": pa.bool_(),
    "timestamp": pa.timestamp("us", tz="UTC"),
}  # fmt: skip
_ENRICHMENT_SOURCES: Final = {
    "browser": ("context.ua.browser", "text"),
    "os": ("context.ua.os", "text"),
    "device_type": ("context.ua.device_type", "text"),
    "is_bot": ("context.ua.is_bot", "boolean"),
    "country": ("context.geo.country", "text"),
    "region": ("context.geo.region", "text"),
}


@dataclass(frozen=True, slots=True)
class CustomColumn:
    name: str
    source: str  # properties.<path> or context.<path>
    type: str  # a key of SQL_TYPES

    @property
    def sql_type(self) -> str:
        return SQL_TYPES[self.type]

    @property
    def arrow_type(self) -> pa.DataType:
        return ARROW_TYPES[self.type]

    def expression(self) -> str:
        """DuckDB reading the column from the canonical JSON columns (NULL when absent or
        not convertible). The path was validated at start-up: letters, digits, _ $ -."""
        root, _, rest = self.source.partition(".")
        path = "$" + "".join(f'."{key}"' for key in rest.split("."))
        return f"TRY_CAST(json_extract_string(\"{root}\", '{path}') AS {self.sql_type})"


def custom_columns(settings: PipelineSettings) -> tuple[CustomColumn, ...]:
    """The configured columns, then those the enabled enrichers fill."""
    columns = [CustomColumn(c.name, c.from_, c.type) for c in settings.columns]
    enrichment = settings.enrichment
    targets = {"context.ua": enrichment.user_agent.target, "context.geo": enrichment.geoip.target}
    for name in enrichment_column_names(enrichment):
        source, kind = _ENRICHMENT_SOURCES[name]
        prefix, _, leaf = source.rpartition(".")
        columns.append(CustomColumn(name, f"{targets[prefix]}.{leaf}", kind))
    return tuple(columns)


def select_sql(columns: Sequence[CustomColumn]) -> str:
    """``, expr AS "name"`` for each column ('' when there are none)."""
    return "".join(f', {c.expression()} AS "{c.name}"' for c in columns)


_registered: tuple[CustomColumn, ...] = ()


def register(columns: Sequence[CustomColumn]) -> None:
    """Set the process's custom columns (the runtime does, from its settings)."""
    global _registered
    _registered = tuple(columns)


def registered() -> tuple[CustomColumn, ...]:
    return _registered


def registered_types() -> dict[str, str]:
    """Custom column name → SQL type, for field validation."""
    return {c.name: c.sql_type for c in _registered}


def add_to_duckdb(
    con: duckdb.DuckDBPyConnection, table: str, columns: Sequence[CustomColumn]
) -> None:
    """Add the columns ``table`` lacks, filled from the JSON its rows already hold."""
    present = {row[0] for row in con.execute(f'DESCRIBE "{table}"').fetchall()}
    for column in columns:
        if column.name not in present:
            con.execute(f'ALTER TABLE "{table}" ADD COLUMN "{column.name}" {column.sql_type}')
            con.execute(f'UPDATE "{table}" SET "{column.name}" = {column.expression()}')


def names_sql(columns: Sequence[CustomColumn]) -> str:
    """``, "name"`` for each column ('' when there are none)."""
    return "".join(f', "{c.name}"' for c in columns)


class ColumnFiller:
    """Adds the custom columns to Arrow batches of canonical events (the archive's writes)."""

    def __init__(self, columns: Sequence[CustomColumn]) -> None:
        self.columns = tuple(columns)
        self._con = duckdb.connect(":memory:") if self.columns else None

    def fill(self, events: pa.Table) -> pa.Table:
        if self._con is None:
            return events
        self._con.register("incoming_events", events)
        try:
            return self._con.execute(
                f"SELECT *{select_sql(self.columns)} FROM incoming_events"
            ).to_arrow_table()
        finally:
            self._con.unregister("incoming_events")


def add_to_iceberg(table: Any, columns: Sequence[CustomColumn]) -> bool:
    """Iceberg schema evolution: add the columns ``table`` lacks (old files read them as
    null). True when the schema changed."""
    from pyiceberg.types import (  # the archive's dependency, not the query's
        BooleanType,
        DoubleType,
        LongType,
        StringType,
        TimestamptzType,
    )

    types = {"text": StringType(), "integer": LongType(), "double": DoubleType(),
             "boolean": BooleanType(), "timestamp": TimestamptzType()}  # fmt: skip
    present = {f.name for f in table.schema().fields}
    missing = [c for c in columns if c.name not in present]
    if not missing:
        return False
    with table.update_schema() as update:
        for column in missing:
            update.add_column(column.name, types[column.type])
    return True
