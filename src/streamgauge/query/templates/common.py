"""Parameter shapes shared by templates, and running SQL that templates build."""

from __future__ import annotations

from typing import Any

import msgspec

from ..dsl import Filter, Strict
from ..engine import fetch
from ..result import QueryResult
from ..source import QueryContext


class RangeParams(Strict):
    """A time range with optional event and filters (ISO-8601 or relative times)."""

    start: str = "-24h"
    end: str = "now"
    timezone: str = "UTC"
    event: str | list[str] | None = None
    filters: list[Filter] = msgspec.field(default_factory=list)


def run_sql(ctx: QueryContext, sql: str, params: dict[str, Any]) -> QueryResult:
    return QueryResult.from_arrow(fetch(ctx, sql, params))
