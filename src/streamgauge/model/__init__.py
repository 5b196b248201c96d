"""The canonical Event every wire format is converted to, and its schema."""

from streamgauge.model.event import (
    COLUMN_NAMES,
    COLUMNS,
    Column,
    Event,
    arrow_schema,
    create_table_sql,
    events_to_arrow,
    rows_to_arrow,
)

__all__ = [
    "COLUMNS",
    "COLUMN_NAMES",
    "Column",
    "Event",
    "arrow_schema",
    "create_table_sql",
    "events_to_arrow",
    "rows_to_arrow",
]
