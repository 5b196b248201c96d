"""Entry points of the query engine: ``run_query`` (the DSL) and statement execution.

The HTTP layer calls these with the caller's ``Principal``; everything below
builds statements from validated input only.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import duckdb
import pyarrow as pa

from streamgauge.errors import BadRequest
from streamgauge.scope import Principal

from .compile import compile_query
from .dsl import QueryRequest, decode
from .result import QueryResult
from .source import QueryContext, RelationFor, hot_relation


def fetch(ctx: QueryContext, sql: str, params: dict[str, Any]) -> pa.Table:
    """Run one statement; DuckDB's input errors become a 400 with its message."""
    try:
        return ctx.con.execute(sql, params).to_arrow_table()
    except (duckdb.ConversionException, duckdb.InvalidInputException) as error:
        raise BadRequest(f"the query could not run on these values: {error}") from None


def finish(
    ctx: QueryContext, result: QueryResult, started: float, *, truncated: bool
) -> QueryResult:
    result.meta = {
        "rows": len(result.rows),
        "elapsed_ms": round((time.perf_counter() - started) * 1000, 3),
        "truncated": truncated,
        "tiers": list(ctx.tiers),
    }
    return result


def make_context(
    con: duckdb.DuckDBPyConnection,
    principal: Principal,
    relation_for: RelationFor,
    now: datetime | None,
) -> QueryContext:
    return QueryContext(con, principal, relation_for, now or datetime.now(UTC))


def run_query(
    con: duckdb.DuckDBPyConnection,
    principal: Principal,
    body: Any,
    *,
    relation_for: RelationFor = hot_relation,
    now: datetime | None = None,
) -> QueryResult:
    """Answer a ``POST /query`` body for ``principal``."""
    started = time.perf_counter()
    ctx = make_context(con, principal, relation_for, now)
    return execute_request(ctx, decode(body, QueryRequest), started)


def execute_request(ctx: QueryContext, request: QueryRequest, started: float) -> QueryResult:
    """Compile and run a decoded DSL request (templates reuse this)."""
    compiled = compile_query(ctx, request)
    table = fetch(ctx, compiled.sql, compiled.params)
    truncated = table.num_rows > compiled.limit
    if truncated:
        table = table.slice(0, compiled.limit)
    result = QueryResult.from_arrow(table, compiled.names)
    return finish(ctx, result, started, truncated=truncated)
