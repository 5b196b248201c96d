"""Templates about journeys: ``sessions`` and ``funnel``.

A session is the events sharing a ``session_id`` inside the range: its
duration runs from its first to its last event, and it belongs to the bucket
of its first event. A funnel follows each user from their first occurrence
of step 1 in the range; every next step is its first occurrence after the
previous step and before step 1 + ``window``.
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from streamgauge.errors import ValidationFailed

from ..dsl import Filter, Strict
from ..params import Params
from ..result import QueryResult
from ..source import QueryContext, scoped_events
from ..timerange import BucketSQL, make_range, parse_duration
from .base import Template, register
from .common import RangeParams, run_sql


class SessionsParams(RangeParams):
    group_by: str = "auto"


class SessionsRow(msgspec.Struct):
    time: datetime | None
    sessions: int
    avg_duration_ms: float
    median_duration_ms: float
    events_per_session: float
    bounce_rate: float


def sessions(ctx: QueryContext, params: SessionsParams) -> QueryResult:
    rng = make_range(params.start, params.end, params.group_by, params.timezone, ctx.now)
    p = Params()
    scoped = scoped_events(
        ctx,
        p,
        rng.start,
        rng.end,
        event=params.event,
        filters=params.filters,
        extra=['"session_id" IS NOT NULL'],
    )
    bucket = BucketSQL(rng, p.add).start("first") if rng.bucketed else None
    key = f"{bucket} AS time, " if bucket else ""
    sql = f"""
    WITH s AS (SELECT session_id, min("timestamp") AS first, count(*) AS n,
                 (epoch_us(max("timestamp")) - epoch_us(min("timestamp"))) / 1000.0 AS duration_ms
               FROM ({scoped}) GROUP BY session_id)
    SELECT {key}count(*) AS sessions, avg(duration_ms) AS avg_duration_ms,
      quantile_cont(duration_ms, 0.5) AS median_duration_ms, avg(n) AS events_per_session,
      avg(CASE WHEN n = 1 THEN 1.0 ELSE 0.0 END) AS bounce_rate
    FROM s {"GROUP BY ALL ORDER BY time" if bucket else ""}"""
    return run_sql(ctx, sql, p.values)


class FunnelStep(Strict):
    event: str
    filters: list[Filter] = msgspec.field(default_factory=list)


class FunnelParams(Strict):
    """2..10 ordered ``steps``; ``window`` (like ``1d`` or ``30m``) bounds the whole funnel."""

    steps: list[FunnelStep]
    start: str = "-7d"
    end: str = "now"
    window: str = "1d"
    filters: list[Filter] = msgspec.field(default_factory=list)


class FunnelRow(msgspec.Struct):
    step: int
    event: str
    users: int
    conversion_from_previous: float | None
    conversion_from_first: float | None
    median_seconds_from_previous: float | None


def funnel(ctx: QueryContext, params: FunnelParams) -> QueryResult:
    if not 2 <= len(params.steps) <= 10:
        raise ValidationFailed("steps: give 2..10 steps", details={"field": "steps"})
    rng = make_range(params.start, params.end, "none", "UTC", ctx.now)
    window = parse_duration(params.window, "window")
    p = Params()
    ctes = []
    for i, step in enumerate(params.steps):
        scoped = scoped_events(
            ctx,
            p,
            rng.start,
            rng.end,
            event=step.event,
            filters=[*params.filters, *step.filters],
            extra=['"user_id" IS NOT NULL'],
            columns='user_id, "timestamp" AS t',
        )
        ctes.append(f"e{i} AS ({scoped})")
    ctes.append(
        "s0 AS (SELECT user_id, min(t) AS t0, min(t) AS t, NULL::DOUBLE AS gap "
        "FROM e0 GROUP BY user_id)"
    )
    for i in range(1, len(params.steps)):
        ctes.append(
            f"s{i} AS (SELECT s.user_id, s.t0, min(e.t) AS t, epoch(min(e.t)) - epoch(s.t) AS gap "
            f"FROM s{i - 1} s JOIN e{i} e ON e.user_id = s.user_id AND e.t > s.t "
            f"AND e.t < s.t0 + {p.add(window)} GROUP BY s.user_id, s.t0, s.t)"
        )
    reached = " UNION ALL ".join(
        f"SELECT {i + 1} AS step, {p.add(step.event)} AS event, count(*) AS users, "
        f"quantile_cont(gap, 0.5) AS median_seconds_from_previous FROM s{i}"
        for i, step in enumerate(params.steps)
    )
    sql = f"""
    WITH {", ".join(ctes)}, reached AS ({reached})
    SELECT step, event, users,
      users / nullif(lag(users) OVER (ORDER BY step), 0) AS conversion_from_previous,
      users / nullif(first_value(users) OVER (ORDER BY step), 0) AS conversion_from_first,
      median_seconds_from_previous
    FROM reached ORDER BY step"""
    return run_sql(ctx, sql, p.values)


register(
    Template(
        "sessions",
        "Sessions per bucket: count, average and median duration, events per session, bounce rate",
        SessionsParams,
        SessionsRow,
        sessions,
    )
)
register(
    Template(
        "funnel",
        "Ordered steps within a conversion window: users, conversion, median time to convert",
        FunnelParams,
        FunnelRow,
        funnel,
    )
)
