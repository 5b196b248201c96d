"""Templates over request traffic, built on the DSL: performance, errors, top.

Each is one DSL query, so it inherits the DSL's validation, isolation and
bucketing exactly; the template fixes the metrics and dimensions.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Literal

import msgspec

from ..dsl import Filter, NamedMetric, OrderBy, QueryRequest
from ..engine import execute_request
from ..fields import parse_metric
from ..result import QueryResult
from ..source import QueryContext
from .base import Template, register
from .common import RangeParams

_LATENCY = [
    NamedMetric("count", "requests"),
    NamedMetric("avg(duration_ms)", "avg_ms"),
    NamedMetric("p50(duration_ms)", "p50_ms"),
    NamedMetric("p95(duration_ms)", "p95_ms"),
    NamedMetric("p99(duration_ms)", "p99_ms"),
    NamedMetric("max(duration_ms)", "max_ms"),
]


def _dsl(ctx: QueryContext, params: RangeParams, **fields: object) -> QueryResult:
    request = msgspec.structs.replace(
        QueryRequest(params.start, params.end, params.timezone),
        event=params.event,
        filters=params.filters,
        **fields,
    )
    return execute_request(ctx, request, time.perf_counter())


class PerformanceParams(RangeParams):
    """``by``: ``time`` (per bucket of ``groupBy``) or ``endpoint`` (method + path).

    Only events with a ``duration_ms`` count as requests.
    """

    group_by: str = "auto"
    by: Literal["time", "endpoint"] = "time"
    limit: int = 1000


class PerformanceRow(msgspec.Struct):
    time: datetime | None = None
    method: str | None = None
    path: str | None = None
    requests: int = 0
    avg_ms: float | None = None
    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    max_ms: float | None = None


def performance(ctx: QueryContext, params: PerformanceParams) -> QueryResult:
    timed = msgspec.structs.replace(
        params, filters=[*params.filters, Filter("duration_ms", "exists")]
    )
    if params.by == "endpoint":
        return _dsl(
            ctx,
            timed,
            dimensions=["method", "path"],
            metrics=list(_LATENCY),
            order_by=[OrderBy("requests", desc=True)],
            limit=params.limit,
        )
    return _dsl(ctx, timed, group_by=params.group_by, metrics=list(_LATENCY), limit=params.limit)


class ErrorsParams(RangeParams):
    """``by``: ``time`` (error rate per bucket), ``status_code``, ``error`` or ``endpoint``.

    An error is ``status_code >= threshold`` (default 500) or a non-null ``error``.
    """

    group_by: str = "auto"
    by: Literal["time", "status_code", "error", "endpoint"] = "time"
    threshold: int = 500
    limit: int = 100


class ErrorsRow(msgspec.Struct):
    time: datetime | None = None
    status_code: int | None = None
    error: str | None = None
    method: str | None = None
    path: str | None = None
    requests: int | None = None
    errors: int = 0
    error_rate: float | None = None


def errors(ctx: QueryContext, params: ErrorsParams) -> QueryResult:
    rate = f"error_rate({params.threshold})"
    parse_metric(rate, "threshold")  # validates 100..599 with a clear message
    if params.by == "time":
        # The rate is a share of requests: events that carry a status code.
        requests = msgspec.structs.replace(
            params, filters=[*params.filters, Filter("status_code", "exists")]
        )
        return _dsl(
            ctx,
            requests,
            group_by=params.group_by,
            fill=True,
            limit=10_000,
            metrics=[NamedMetric("count", "requests"), NamedMetric(rate, "error_rate")],
        )
    dimensions = {
        "status_code": ["status_code"],
        "error": ["error"],
        "endpoint": ["method", "path"],
    }
    failing = Filter("status_code", "gte", params.threshold)
    if params.by == "error":
        failing = Filter("error", "exists")
    metrics: list[str | NamedMetric] = [NamedMetric("count", "errors")]
    result = _dsl(
        ctx,
        msgspec.structs.replace(params, filters=[*params.filters, failing]),
        dimensions=dimensions[params.by],
        metrics=metrics,
        order_by=[OrderBy("errors", desc=True)],
        limit=params.limit,
    )
    return result


class TopParams(RangeParams):
    """The top ``limit`` values of ``dimension`` ranked by ``metric`` (a DSL metric)."""

    dimension: str = "path"
    metric: str = "count"
    limit: int = 10


class TopRow(msgspec.Struct):
    """Keys are the dimension's name and the metric string, as given."""


def top(ctx: QueryContext, params: TopParams) -> QueryResult:
    return _dsl(
        ctx,
        params,
        dimensions=[params.dimension],
        metrics=[params.metric],
        order_by=[OrderBy(params.metric, desc=True)],
        limit=params.limit,
    )


register(
    Template(
        "performance",
        "Requests, average, P50/P95/P99 and max latency over time or by endpoint",
        PerformanceParams,
        PerformanceRow,
        performance,
    )
)
register(
    Template(
        "errors",
        "Error rate over time; top errors by status code, message or endpoint",
        ErrorsParams,
        ErrorsRow,
        errors,
    )
)
register(Template("top", "Top-N values of any dimension by any metric", TopParams, TopRow, top))
