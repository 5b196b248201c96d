"""``POST /sql``: the caller's SQL over a per-project ``events`` view, in a sandbox.

The sandbox (query/sandbox.py, query/sql.py) sees only the caller's rows; this
module only turns a request into a call and a result into a response.
"""

from __future__ import annotations

import msgspec
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response

from streamgauge.api.context import ApiContext
from streamgauge.api.openapi import document, operation
from streamgauge.query import QueryResult, pick_format, render
from streamgauge.query.sandbox import SqlLimits
from streamgauge.query.schemas import REF_TEMPLATE
from streamgauge.query.sql import SqlRequest, SqlResult, execute_sql, run_sql
from streamgauge.query.sql_source import HotEventSource


def register(app: FastAPI, api: ApiContext) -> None:
    settings = api.runtime.settings.query
    limits = SqlLimits(
        timeout_s=settings.timeout_s, memory_limit=settings.memory_limit, max_rows=settings.max_rows
    )
    source = HotEventSource(api.runtime.hot.connection, relation_for=api.relation_for)

    async def sql(request: Request) -> Response:
        principal = api.principal(request)
        body = await api.body(request)
        fmt = pick_format(request.query_params.get("format"), request.headers.get("accept"))

        def work() -> Response:
            if fmt == "json":
                result = run_sql(source, principal, body, limits)
                return Response(msgspec.json.encode(result), media_type="application/json")
            answer = execute_sql(source, principal, body, limits)
            table = QueryResult.from_arrow(answer.table)
            table.meta = msgspec.to_builtins(answer.meta)
            content, media_type = render(table, fmt)
            return Response(content, media_type=media_type)

        return await api.fresh(work)

    app.add_route("/sql", sql, methods=["POST"])
    refs, components = msgspec.json.schema_components(
        [SqlRequest, SqlResult], ref_template=REF_TEMPLATE
    )
    summary = "SQL over your project's events (read-only sandbox; ?format=csv|parquet|...)"
    document(app, {"/sql": {"post": operation(summary, refs[1], refs[0])}}, components)
