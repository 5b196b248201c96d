"""The six questions of the comparison, each asked in every contender's language.

streamgauge is asked through its HTTP API (a template or a DSL query); the
practical limit runs the SQL that streamgauge's engine generates for that
request directly on DuckDB; PostgreSQL and ClickHouse (chdb) get hand-written
SQL with the same definitions, so their answers must agree with streamgauge's
(see ``answers.py`` for how closely). Every question reads one project of the
generated traffic over the 30 days of October 2025 that the data covers.

Column kinds say how to compare a column: ``t`` a time, ``s`` text, ``i`` an
integer, ``f`` a float (relative 1e-9: sums and averages in another order
differ in the last bits), ``g`` a gap in seconds (absolute 1 µs: epoch
seconds as doubles carry about 0.2 µs of rounding).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

PROJECT: Final = "proj_0"
START: Final = datetime(2025, 10, 1, tzinfo=UTC)
END: Final = datetime(2025, 10, 31, tzinfo=UTC)
MONTH_END: Final = datetime(2025, 11, 1, tzinfo=UTC)
RETENTION_WEEKS: Final = 5
FUNNEL: Final = ("signup", "checkout.started", "checkout.completed")


@dataclass(frozen=True, slots=True)
class Question:
    """One question: the streamgauge request, the PostgreSQL and ClickHouse SQL."""

    name: str
    path: str  # under the query port: "query" or "templates/NAME"
    body: dict[str, Any]
    postgres: str  # psycopg named parameters: %(project)s, %(start)s, %(end)s
    clickhouse: str  # ClickHouse query parameters: {project:String} ...
    kinds: str  # one letter per output column, see the module docstring
    end: datetime = END
    extra: dict[str, Any] = field(default_factory=dict)  # more parameters of both SQLs

    def params(self) -> dict[str, Any]:
        return {"project": PROJECT, "start": START, "end": self.end, **self.extra}

    def clickhouse_params(self) -> dict[str, Any]:
        def text(t: datetime) -> str:
            return t.strftime("%Y-%m-%d %H:%M:%S")

        return {"project": PROJECT, "start": text(START), "end": text(self.end), **self.extra}


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _range(end: datetime = END) -> dict[str, str]:
    return {"start": _iso(START), "end": _iso(end)}


# Shared WHERE clauses: one project, the half-open range.
_PG = 'project_id = %(project)s AND "timestamp" >= %(start)s AND "timestamp" < %(end)s'
_CH = (
    "project_id = {project:String} AND timestamp >= {start:DateTime64(6, 'UTC')} "
    "AND timestamp < {end:DateTime64(6, 'UTC')}"
)
_CH_END = "{end:DateTime64(6, 'UTC')}"
_CH_START = "{start:DateTime64(6, 'UTC')}"

HOURLY_LATENCY = Question(
    "time series by hour, P50/P95/P99",
    "templates/performance",
    {**_range(), "groupBy": "hour"},
    f"""SELECT date_trunc('hour', "timestamp") AS time, count(*) AS requests,
  avg(duration_ms) AS avg_ms,
  percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms) AS p50_ms,
  percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms) AS p95_ms,
  percentile_cont(0.99) WITHIN GROUP (ORDER BY duration_ms) AS p99_ms,
  max(duration_ms) AS max_ms
FROM events WHERE {_PG} AND duration_ms IS NOT NULL
GROUP BY 1 ORDER BY 1""",
    f"""SELECT time, requests, avg_ms, q[1] AS p50_ms, q[2] AS p95_ms, q[3] AS p99_ms, max_ms
FROM (SELECT toDateTime64(toStartOfHour(timestamp), 6, 'UTC') AS time, count() AS requests,
    avg(duration_ms) AS avg_ms, quantilesExactInclusive(0.5, 0.95, 0.99)(duration_ms) AS q,
    max(duration_ms) AS max_ms
  FROM events WHERE {_CH} AND duration_ms IS NOT NULL GROUP BY time)
ORDER BY time""",
    "tifffff",
)

ERRORS_BY_ENDPOINT = Question(
    "error rate by endpoint",
    "query",
    {
        **_range(),
        "dimensions": ["method", "path"],
        "metrics": ["count", "error_rate"],
        "filters": [{"field": "status_code", "op": "exists"}],
    },
    f"""SELECT method, path, count(*) AS count,
  avg(CASE WHEN status_code >= 500 OR error IS NOT NULL THEN 1.0 ELSE 0.0 END)::float8
    AS error_rate
FROM events WHERE {_PG} AND status_code IS NOT NULL
GROUP BY method, path ORDER BY count DESC, method, path""",
    f"""SELECT method, path, count() AS count,
  avg(if(status_code >= 500 OR error IS NOT NULL, 1.0, 0.0)) AS error_rate
FROM events WHERE {_CH} AND status_code IS NOT NULL
GROUP BY method, path ORDER BY count DESC, method, path""",
    "ssif",
)

DAILY_ACTIVE_USERS = Question(
    "DAU over 30 days",
    "query",
    {**_range(), "groupBy": "day", "metrics": ["uniq(user_id)"]},
    f"""SELECT date_trunc('day', "timestamp") AS time, count(DISTINCT user_id) AS dau
FROM events WHERE {_PG} GROUP BY 1 ORDER BY 1""",
    f"""SELECT toDateTime64(toStartOfDay(timestamp), 6, 'UTC') AS time, uniqExact(user_id) AS dau
FROM events WHERE {_CH} GROUP BY time ORDER BY time""",
    "ti",
)


def _pg_funnel() -> str:
    steps = [
        f'e{i} AS (SELECT user_id, "timestamp" AS t FROM events WHERE {_PG} '
        f"AND event = %(step{i})s AND user_id IS NOT NULL)"
        for i in range(len(FUNNEL))
    ]
    steps.append(
        "s0 AS (SELECT user_id, min(t) AS t0, min(t) AS t, NULL::float8 AS gap "
        "FROM e0 GROUP BY user_id)"
    )
    steps += [
        f"s{i} AS (SELECT s.user_id, s.t0, min(e.t) AS t, "
        f"extract(epoch FROM min(e.t))::float8 - extract(epoch FROM s.t)::float8 AS gap "
        f"FROM s{i - 1} s JOIN e{i} e ON e.user_id = s.user_id AND e.t > s.t "
        f"AND e.t < s.t0 + interval '1 day' GROUP BY s.user_id, s.t0, s.t)"
        for i in range(1, len(FUNNEL))
    ]
    reached = " UNION ALL ".join(
        f"SELECT {i + 1} AS step, %(step{i})s::text AS event, count(*) AS users, "
        f"percentile_cont(0.5) WITHIN GROUP (ORDER BY gap) AS median FROM s{i}"
        for i in range(len(FUNNEL))
    )
    return f"""WITH {", ".join(steps)}, reached AS ({reached})
SELECT step, event, users,
  users::float8 / nullif(lag(users) OVER (ORDER BY step), 0) AS conversion_from_previous,
  users::float8 / nullif(first_value(users) OVER (ORDER BY step), 0) AS conversion_from_first,
  median AS median_seconds_from_previous
FROM reached ORDER BY step"""


def _ch_funnel() -> str:
    steps = [
        f"e{i} AS (SELECT user_id, timestamp AS t FROM events WHERE {_CH} "
        f"AND event = {{step{i}:String}} AND user_id IS NOT NULL)"
        for i in range(len(FUNNEL))
    ]
    steps.append(
        "s0 AS (SELECT user_id, min(t) AS t0, min(t) AS at, "
        "CAST(NULL AS Nullable(Float64)) AS gap FROM e0 GROUP BY user_id)"
    )
    # ClickHouse joins on equality; the time conditions filter the joined rows. Aliases
    # are global in ClickHouse SQL, so the reached time is ``at``, never ``t`` again.
    steps += [
        f"s{i} AS (SELECT s.user_id AS user_id, s.t0 AS t0, min(e.t) AS at, "
        f"(toUnixTimestamp64Micro(min(e.t)) - toUnixTimestamp64Micro(s.at)) / 1e6 AS gap "
        f"FROM s{i - 1} AS s INNER JOIN e{i} AS e ON e.user_id = s.user_id "
        f"WHERE e.t > s.at AND e.t < s.t0 + INTERVAL 1 DAY GROUP BY s.user_id, s.t0, s.at)"
        for i in range(1, len(FUNNEL))
    ]
    reached = " UNION ALL ".join(
        f"SELECT {i + 1} AS step, {{step{i}:String}} AS event, count() AS users, "
        f"quantileExactInclusive(0.5)(gap) AS median FROM s{i}"
        for i in range(len(FUNNEL))
    )
    window = "ORDER BY step ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"
    return f"""WITH {", ".join(steps)}
SELECT step, event, users,
  users / nullIf(lagInFrame(users) OVER ({window}), 0) AS conversion_from_previous,
  users / nullIf(first_value(users) OVER ({window}), 0) AS conversion_from_first,
  median AS median_seconds_from_previous
FROM ({reached}) ORDER BY step"""


THREE_STEP_FUNNEL = Question(
    "3-step funnel",
    "templates/funnel",
    {**_range(), "steps": [{"event": e} for e in FUNNEL], "window": "1d"},
    _pg_funnel(),
    _ch_funnel(),
    "isiffg",
    extra={f"step{i}": event for i, event in enumerate(FUNNEL)},
)

WEEKLY_RETENTION = Question(
    "weekly retention matrix",
    "templates/retention",
    {**_range(), "period": "week", "periods": RETENTION_WEEKS},
    f"""WITH first AS (SELECT user_id, min("timestamp") AS seen FROM events
    WHERE project_id = %(project)s AND "timestamp" < %(end)s AND user_id IS NOT NULL
    GROUP BY user_id),
  cohort AS (SELECT user_id, date_trunc('week', seen)::date AS cohort
    FROM first WHERE seen >= %(start)s),
  act AS (SELECT DISTINCT user_id, date_trunc('week', "timestamp")::date AS period
    FROM events WHERE {_PG} AND user_id IS NOT NULL),
  sizes AS (SELECT cohort, count(*) AS size FROM cohort GROUP BY cohort),
  cells AS (SELECT c.cohort, (a.period - c.cohort) / 7 AS k, count(*) AS users
    FROM cohort c JOIN act a USING (user_id) WHERE a.period >= c.cohort GROUP BY 1, 2),
  grid AS (SELECT s.cohort, s.size, k FROM sizes s
    CROSS JOIN generate_series(0, %(periods)s - 1) AS k
    WHERE (s.cohort + k * 7)::timestamp AT TIME ZONE 'UTC' < %(end)s)
SELECT g.cohort::timestamp AT TIME ZONE 'UTC' AS cohort, g.size AS cohort_size,
  g.k AS period, coalesce(c.users, 0) AS users,
  coalesce(c.users, 0)::float8 / g.size AS share
FROM grid g LEFT JOIN cells c ON c.cohort = g.cohort AND c.k = g.k
ORDER BY 1, 3""",
    f"""WITH first AS (SELECT user_id, min(timestamp) AS seen FROM events
    WHERE project_id = {{project:String}} AND timestamp < {_CH_END} AND user_id IS NOT NULL
    GROUP BY user_id),
  cohort AS (SELECT user_id, toMonday(seen) AS cohort FROM first WHERE seen >= {_CH_START}),
  act AS (SELECT DISTINCT user_id, toMonday(timestamp) AS period
    FROM events WHERE {_CH} AND user_id IS NOT NULL),
  sizes AS (SELECT cohort, count() AS size FROM cohort GROUP BY cohort),
  cells AS (SELECT c.cohort AS cohort, intDiv(dateDiff('day', c.cohort, a.period), 7) AS k,
      count() AS users
    FROM cohort AS c INNER JOIN act AS a USING (user_id) WHERE a.period >= c.cohort
    GROUP BY cohort, k),
  grid AS (SELECT s.cohort AS cohort, s.size AS size, toInt64(k.number) AS k
    FROM sizes AS s CROSS JOIN numbers({{periods:UInt32}}) AS k
    WHERE toDateTime(s.cohort + toInt32(k.number * 7), 'UTC') < {_CH_END})
SELECT toDateTime64(g.cohort, 6, 'UTC') AS cohort, g.size AS cohort_size, g.k AS period,
  coalesce(c.users, 0) AS users, coalesce(c.users, 0) / g.size AS share
FROM grid AS g LEFT JOIN cells AS c ON c.cohort = g.cohort AND c.k = g.k
ORDER BY cohort, period""",
    "tiiif",
    extra={"periods": RETENTION_WEEKS},
)


USAGE_BY_ORGANIZATION = Question(
    "usage by organization and SKU, one month",
    "templates/usage",
    _range(MONTH_END),
    f"""SELECT organization_id, usage_sku, usage_unit, sum(usage_quantity) AS quantity,
  count(*) AS events
FROM events WHERE {_PG} AND usage_quantity IS NOT NULL
GROUP BY 1, 2, 3 ORDER BY 1, 2, 3""",
    f"""SELECT organization_id, usage_sku, usage_unit, sum(usage_quantity) AS quantity,
  count() AS events
FROM events WHERE {_CH} AND usage_quantity IS NOT NULL
GROUP BY organization_id, usage_sku, usage_unit
ORDER BY organization_id, usage_sku, usage_unit""",
    "sssfi",
    MONTH_END,
)

QUESTIONS: Final[tuple[Question, ...]] = (
    HOURLY_LATENCY,
    ERRORS_BY_ENDPOINT,
    DAILY_ACTIVE_USERS,
    THREE_STEP_FUNNEL,
    WEEKLY_RETENTION,
    USAGE_BY_ORGANIZATION,
)
