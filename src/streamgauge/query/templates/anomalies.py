"""The ``anomalies`` template: buckets far from their trailing robust baseline.

For each bucket the baseline is the median of the previous ``window`` buckets
and the spread is their MAD scaled by 1.4826 (so it estimates a standard
deviation for normal data); ``score = (value - expected) / spread``. When the
MAD is 0 the mean absolute deviation × 1.2533 is used; when that is 0 too, a
bucket that differs from the baseline is reported with a null score.
Empty buckets count as 0 for count-like metrics.
"""

from __future__ import annotations

import statistics
import time
from datetime import datetime
from typing import Any

import msgspec

from streamgauge.errors import ValidationFailed

from ..dsl import NamedMetric, QueryRequest
from ..engine import execute_request
from ..result import ColumnInfo, QueryResult
from ..source import QueryContext
from ..timerange import bucket_start, format_instant, make_range, step_back
from .base import Template, register
from .common import RangeParams


class AnomaliesParams(RangeParams):
    group_by: str = "hour"
    metric: str = "count"
    window: int = 24
    threshold: float = 3.5
    include_all: bool = False


class AnomaliesRow(msgspec.Struct):
    time: datetime
    value: float | None
    expected: float | None
    spread: float | None
    score: float | None
    anomaly: bool


def _score(value: float, history: list[float]) -> tuple[float, float, float | None]:
    expected = statistics.median(history)
    deviations = [abs(x - expected) for x in history]
    spread = 1.4826 * statistics.median(deviations)
    if spread == 0:
        spread = 1.2533 * statistics.fmean(deviations)
    if spread == 0:
        return expected, 0.0, None if value != expected else 0.0
    return expected, spread, (value - expected) / spread


def anomalies(ctx: QueryContext, params: AnomaliesParams) -> QueryResult:
    if not 3 <= params.window <= 1000:
        raise ValidationFailed("window: give 3..1000 trailing buckets", details={"field": "window"})
    if params.threshold <= 0:
        raise ValidationFailed("threshold: give a positive number", details={"field": "threshold"})
    rng = make_range(params.start, params.end, params.group_by, params.timezone, ctx.now)
    if not rng.bucketed:
        raise ValidationFailed("groupBy: anomalies need time buckets", details={"field": "groupBy"})
    first = bucket_start(rng.start, rng.granularity, rng.tz)
    request = QueryRequest(
        format_instant(step_back(first, params.window, rng.granularity, rng.tz)),
        format_instant(rng.end),
        params.timezone,
        group_by=rng.granularity,
        event=params.event,
        filters=params.filters,
        fill=True,
        limit=100_000,
        metrics=[NamedMetric(params.metric, "value")],
    )
    series = execute_request(ctx, request, time.perf_counter()).rows
    rows: list[dict[str, Any]] = []
    for i, row in enumerate(series):
        history = [
            r["value"] for r in series[max(0, i - params.window) : i] if r["value"] is not None
        ]
        if row["time"] < first or row["value"] is None or len(history) < 3:
            continue
        expected, spread, score = _score(float(row["value"]), history)
        flagged = score is None or abs(score) > params.threshold
        if flagged or params.include_all:
            rows.append(
                {
                    "time": row["time"],
                    "value": row["value"],
                    "expected": expected,
                    "spread": spread,
                    "score": score,
                    "anomaly": flagged,
                }
            )
    columns = [
        ColumnInfo("time", "timestamp"),
        ColumnInfo("value", "double"),
        ColumnInfo("expected", "double"),
        ColumnInfo("spread", "double"),
        ColumnInfo("score", "double"),
        ColumnInfo("anomaly", "boolean"),
    ]
    return QueryResult(columns, rows)


register(
    Template(
        "anomalies",
        "Buckets where a metric departs from its trailing median by more than k robust deviations",
        AnomaliesParams,
        AnomaliesRow,
        anomalies,
    )
)
