"""Templates about people: ``users`` (DAU/WAU/MAU, new vs returning) and ``retention``.

People are ``user_id`` values (anonymous events are left out). Days, weeks
and months are local to ``timezone``. A user's *first seen* is their first
event in the whole history of the project (all tiers before ``end``), so
"new" means new to the product, not new to the range.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal

import msgspec

from streamgauge.errors import ValidationFailed

from ..params import Params
from ..result import QueryResult
from ..source import QueryContext, scoped_events
from ..timerange import make_range
from .base import Template, register
from .common import RangeParams, run_sql

_BEGINNING = datetime(1970, 1, 1, tzinfo=UTC)


def _local_day(column: str, tz: str) -> str:
    return f"CAST(timezone({tz}, {column}) AS DATE)"


def _quarter_hour(column: str) -> str:
    """The quarter hour holding ``column``: every zone's day starts on one (offsets are
    multiples of 15 minutes), so grouping by it first leaves far fewer rows for the
    slow per-row time zone conversion to local days."""
    return f"make_timestamptz(epoch_us({column}) // 900000000 * 900000000)"


class UsersParams(RangeParams):
    """Per ``groupBy`` bucket (day, week or month): active, new and returning users,
    and DAU/WAU/MAU as of the bucket's last day (trailing 1, 7 and 30 local days,
    counting events before ``start`` but never at or after ``end``)."""

    group_by: Literal["day", "week", "month"] = "day"


class UsersRow(msgspec.Struct):
    time: datetime
    active_users: int
    new_users: int
    returning_users: int
    dau: int
    wau: int
    mau: int


def users(ctx: QueryContext, params: UsersParams) -> QueryResult:
    rng = make_range(params.start, params.end, params.group_by, params.timezone, ctx.now)
    p = Params()
    tz = p.add(params.timezone)
    unit = p.add(params.group_by)
    first_day = rng.start.astimezone(rng.tz).date()
    last_day = (rng.end - timedelta(microseconds=1)).astimezone(rng.tz).date()
    lookback = rng.start - timedelta(days=31)
    common = {"event": params.event, "filters": params.filters, "extra": ['"user_id" IS NOT NULL']}
    recent = scoped_events(ctx, p, lookback, rng.end, **common)  # type: ignore[arg-type]
    history = scoped_events(ctx, p, _BEGINNING, rng.end, **common)  # type: ignore[arg-type]
    sql = f"""
    WITH quarters AS (
      SELECT user_id, {_quarter_hour('"timestamp"')} AS q,
        bool_or("timestamp" >= {p.add(rng.start)}) AS in_range
      FROM ({recent}) GROUP BY ALL),
    act AS (
      SELECT user_id, {_local_day("q", tz)} AS day, bool_or(in_range) AS in_range
      FROM quarters GROUP BY ALL),
    first AS (SELECT user_id, min("timestamp") AS seen FROM ({history}) GROUP BY user_id),
    days AS (SELECT CAST(unnest(generate_series(
        {p.add(first_day)}::DATE, {p.add(last_day)}::DATE, INTERVAL 1 DAY)) AS DATE) AS day),
    buckets AS (SELECT CAST(date_trunc({unit}, day) AS DATE) AS bucket, max(day) AS last
                FROM days GROUP BY ALL),
    active AS (SELECT CAST(date_trunc({unit}, day) AS DATE) AS bucket, count(DISTINCT user_id) AS n
               FROM act WHERE in_range AND day >= {p.add(first_day)} GROUP BY ALL),
    fresh AS (SELECT CAST(date_trunc({unit}, {_local_day("seen", tz)}) AS DATE) AS bucket,
                count(*) AS n
              FROM first WHERE seen >= {p.add(rng.start)} GROUP BY ALL),
    rolling AS (
      SELECT b.bucket,
        count(DISTINCT a.user_id) FILTER (WHERE a.day = b.last) AS dau,
        count(DISTINCT a.user_id) FILTER (WHERE a.day > b.last - 7) AS wau,
        count(DISTINCT a.user_id) AS mau
      FROM buckets b JOIN act a ON a.day > b.last - 30 AND a.day <= b.last GROUP BY b.bucket)
    SELECT timezone({tz}, CAST(b.bucket AS TIMESTAMP)) AS time,
      coalesce(ac.n, 0) AS active_users, coalesce(f.n, 0) AS new_users,
      coalesce(ac.n, 0) - coalesce(f.n, 0) AS returning_users,
      coalesce(r.dau, 0) AS dau, coalesce(r.wau, 0) AS wau, coalesce(r.mau, 0) AS mau
    FROM buckets b LEFT JOIN active ac USING (bucket) LEFT JOIN fresh f USING (bucket)
      LEFT JOIN rolling r USING (bucket)
    ORDER BY b.bucket"""
    return run_sql(ctx, sql, p.values)


class RetentionParams(RangeParams):
    """Cohorts by the ``period`` (day or week) of each user's first event, for first
    events in ``[start, end)``; per cohort the share active in each of the next
    ``periods`` periods (period 0 is the cohort's own), counting events before ``end``."""

    period: Literal["day", "week"] = "week"
    periods: int = 8
    start: str = "-56d"


class RetentionRow(msgspec.Struct):
    cohort: datetime
    cohort_size: int
    period: int
    users: int
    share: float


def retention(ctx: QueryContext, params: RetentionParams) -> QueryResult:
    if not 1 <= params.periods <= 104:
        raise ValidationFailed("periods: give 1..104", details={"field": "periods"})
    rng = make_range(params.start, params.end, params.period, params.timezone, ctx.now)
    p = Params()
    tz, unit = p.add(params.timezone), p.add(params.period)
    days = 7 if params.period == "week" else 1
    common = {"event": params.event, "filters": params.filters, "extra": ['"user_id" IS NOT NULL']}
    history = scoped_events(ctx, p, _BEGINNING, rng.end, **common)  # type: ignore[arg-type]
    period_of = f"CAST(date_trunc({unit}, timezone({tz}, {{}})) AS DATE)"
    sql = f"""
    WITH first AS (SELECT user_id, min("timestamp") AS seen FROM ({history}) GROUP BY user_id),
    cohort AS (SELECT user_id, {period_of.format("seen")} AS cohort
               FROM first WHERE seen >= {p.add(rng.start)}),
    act AS (SELECT DISTINCT user_id, {period_of.format('"timestamp"')} AS period
            FROM ({history}) WHERE "timestamp" >= {p.add(rng.start)}),
    sizes AS (SELECT cohort, count(*) AS size FROM cohort GROUP BY cohort),
    cells AS (SELECT c.cohort, CAST((a.period - c.cohort) // {days} AS INTEGER) AS k,
                count(*) AS users
              FROM cohort c JOIN act a USING (user_id) WHERE a.period >= c.cohort GROUP BY ALL),
    grid AS (SELECT s.cohort, s.size, CAST(k.range AS INTEGER) AS k
             FROM sizes s, range({p.add(params.periods)}) k
             WHERE timezone({tz}, CAST(s.cohort + CAST(k.range * {days} AS INTEGER) AS TIMESTAMP))
                   < {p.add(rng.end)})
    SELECT timezone({tz}, CAST(g.cohort AS TIMESTAMP)) AS cohort, g.size AS cohort_size,
      g.k AS period,
      coalesce(c.users, 0) AS users, coalesce(c.users, 0) / g.size AS share
    FROM grid g LEFT JOIN cells c ON c.cohort = g.cohort AND c.k = g.k
    ORDER BY g.cohort, g.k"""
    return run_sql(ctx, sql, p.values)


register(
    Template(
        "users",
        "DAU/WAU/MAU (rolling, exact) and new vs returning users over time",
        UsersParams,
        UsersRow,
        users,
    )
)
register(
    Template(
        "retention",
        "Cohort matrix: share of each first-seen cohort active in later periods",
        RetentionParams,
        RetentionRow,
        retention,
    )
)
