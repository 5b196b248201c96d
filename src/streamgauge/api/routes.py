"""Query endpoints: ``/query`` and ``/sql`` over the hot store."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response

from streamgauge.errors import ValidationFailed
from streamgauge.http.errors import json_response
from streamgauge.runtime import Runtime
from streamgauge.scope import Principal

_BUCKETS = {"minute": "1 minute", "hour": "1 hour", "day": "1 day"}


def register_query_routes(
    app: FastAPI,
    runtime: Runtime,
    principal_of: Callable[[Request], Principal],
    json_body: Callable[[Request], Awaitable[dict[str, Any]]],
    in_thread: Callable[..., Awaitable[Any]],
) -> None:
    async def query(request: Request) -> Response:
        principal = principal_of(request)
        body = await json_body(request)
        start, end = _time(body, "start"), _time(body, "end")
        bucket = _BUCKETS.get(body.get("groupBy", "hour"))
        if bucket is None:
            raise ValidationFailed(f"groupBy must be one of {sorted(_BUCKETS)}")

        def run() -> list[dict[str, Any]]:
            cur = runtime.hot.cursor()
            rows = cur.execute(
                f"SELECT time_bucket(INTERVAL '{bucket}', timestamp, 'UTC') AS t, count(*) "
                "FROM events WHERE project_id = ? AND timestamp >= ? AND timestamp < ? "
                "GROUP BY t ORDER BY t",
                [principal.project_id, start, end],
            ).fetchall()
            return [{"time": t.strftime("%Y-%m-%dT%H:%M:%SZ"), "count": c} for t, c in rows]

        data = await in_thread(run)
        return json_response({"data": data, "meta": {"rows": len(data), "tiers": ["hot"]}})

    app.add_route("/query", query, methods=["POST"])


def _time(body: dict[str, Any], name: str) -> datetime:
    value = body.get(name)
    if not isinstance(value, str):
        raise ValidationFailed(f"{name} must be an ISO-8601 time such as 2025-10-03T00:00:00Z")
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(f"{name} is not an ISO-8601 time: {value!r}") from None
