"""The query engine: the JSON DSL, templates and output formats over a tier relation."""

from .engine import run_query
from .formats import MEDIA_TYPES, pick_format, render
from .result import ColumnInfo, QueryResponse, QueryResult
from .source import QueryContext, RelationFor, hot_relation
from .templates import ALIASES, TemplateInfo, list_templates, run_template

__all__ = [
    "ALIASES",
    "MEDIA_TYPES",
    "ColumnInfo",
    "QueryContext",
    "QueryResponse",
    "QueryResult",
    "RelationFor",
    "TemplateInfo",
    "hot_relation",
    "list_templates",
    "pick_format",
    "render",
    "run_query",
    "run_template",
]
