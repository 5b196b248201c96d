"""The query engine: the JSON DSL, templates and output formats over a tier relation."""

from .engine import run_query
from .formats import MEDIA_TYPES, pick_format, render
from .result import ColumnInfo, QueryResponse, QueryResult
from .source import QueryContext, RelationFor, hot_relation

__all__ = [
    "MEDIA_TYPES",
    "ColumnInfo",
    "QueryContext",
    "QueryResponse",
    "QueryResult",
    "RelationFor",
    "hot_relation",
    "pick_format",
    "render",
    "run_query",
]
