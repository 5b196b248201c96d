"""The JSON DSL answers exactly what a plain-Python computation over the events gives."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

import duckdb
import pytest

from streamgauge.query import run_query
from streamgauge.scope import Principal

from .conftest import NOW, PROJECT
from .expected import bucket, close, in_range, prop, quantile

START, END = datetime(2025, 10, 25, tzinfo=UTC), datetime(2025, 10, 27, 6, tzinfo=UTC)
RANGE = {"start": "2025-10-25T00:00:00Z", "end": "2025-10-27T06:00:00Z"}


def query(
    con: duckdb.DuckDBPyConnection, principal: Principal, body: dict[str, Any]
) -> list[dict[str, Any]]:
    return run_query(con, principal, body, now=NOW).rows


def test_total_count_over_the_seed_body(con, principal, events) -> None:
    rows = query(con, principal, {"start": "2025-10-25T00:00:00Z", "end": "2025-10-26T23:59:59Z"})
    expected = in_range(events, PROJECT, START, datetime(2025, 10, 26, 23, 59, 59, tzinfo=UTC))
    assert rows == [{"count": len(expected)}]


@pytest.mark.parametrize("group_by", ["minute", "5m", "15m", "hour", "day", "week", "month"])
@pytest.mark.parametrize("tz", ["UTC", "Europe/Berlin", "Asia/Kolkata"])
def test_buckets_in_a_time_zone(con, principal, events, group_by, tz) -> None:
    rows = query(
        con,
        principal,
        {**RANGE, "groupBy": group_by, "timezone": tz, "metrics": ["count", "uniq(user_id)"]},
    )
    counts: dict[datetime, int] = defaultdict(int)
    users: dict[datetime, set[str]] = defaultdict(set)
    for e in in_range(events, PROJECT, START, END):
        key = bucket(e["timestamp"], group_by, tz)
        counts[key] += 1
        if e["user_id"] is not None:
            users[key].add(e["user_id"])
    assert rows == [
        {"time": t, "count": counts[t], "uniq(user_id)": len(users[t])} for t in sorted(counts)
    ]


def test_berlin_hours_across_the_dst_change_are_distinct(con, principal) -> None:
    body = {
        "start": "2025-10-25T22:00:00Z",
        "end": "2025-10-26T03:00:00Z",
        "groupBy": "hour",
        "timezone": "Europe/Berlin",
        "fill": True,
    }
    times = [r["time"] for r in query(con, principal, body)]
    # Local 00:00, 01:00, 02:00 CEST, 02:00 CET, 03:00 CET: five hours, one per UTC hour.
    assert times == [
        datetime(2025, 10, 25, 22 + h, tzinfo=UTC)
        if h < 2
        else datetime(2025, 10, 26, h - 2, tzinfo=UTC)
        for h in range(5)
    ]


def test_berlin_days_across_the_dst_change_are_25_hours(con, principal, events) -> None:
    body = {
        **RANGE,
        "groupBy": "day",
        "timezone": "Europe/Berlin",
        "metrics": ["count", "rate"],
        "fill": True,
    }
    rows = query(con, principal, body)
    assert [r["time"] for r in rows] == [
        datetime(2025, 10, 24, 22, tzinfo=UTC),
        datetime(2025, 10, 25, 22, tzinfo=UTC),
        datetime(2025, 10, 26, 23, tzinfo=UTC),
    ]
    # The rate divides by the bucket's length clipped to the range: 22 h, 25 h, 7 h.
    for row, hours in zip(rows, (22, 25, 7), strict=True):
        assert close(row["rate"], row["count"] / (hours * 3600))


def test_metrics_and_filters_and_dimensions(con, principal, events) -> None:
    body = {
        **RANGE,
        "event": "api.request",
        "dimensions": ["path"],
        "filters": [
            {"field": "status_code", "op": "lt", "value": 500},
            {"field": "properties.region", "op": "in", "value": ["eu", "us"]},
        ],
        "metrics": [
            "count",
            "avg(duration_ms)",
            "p95(duration_ms)",
            "p99.9(duration_ms)",
            "min(duration_ms)",
            "max(duration_ms)",
            "sum(duration_ms)",
            "uniq(user_id)",
            "error_rate(400)",
            {"metric": "p50(duration_ms)", "as": "median"},
        ],
        "orderBy": [{"field": "count", "desc": True}],
    }
    rows = query(con, principal, body)
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for e in in_range(events, PROJECT, START, END):
        if (
            e["event"] == "api.request"
            and e["status_code"] < 500
            and prop(e, "region") in ("eu", "us")
        ):
            groups[e["path"]].append(e)
    assert [r["path"] for r in rows] == sorted(groups, key=lambda p: (-len(groups[p]), p))
    for row in rows:
        group = groups[row["path"]]
        durations = [e["duration_ms"] for e in group]
        assert row["count"] == len(group)
        assert row["uniq(user_id)"] == len({e["user_id"] for e in group if e["user_id"]})
        assert close(row["avg(duration_ms)"], sum(durations) / len(durations))
        assert close(row["sum(duration_ms)"], sum(durations))
        assert row["min(duration_ms)"] == min(durations) and row["max(duration_ms)"] == max(
            durations
        )
        assert close(row["p95(duration_ms)"], quantile(durations, 0.95))
        assert close(row["p99.9(duration_ms)"], quantile(durations, 0.999))
        assert close(row["median"], quantile(durations, 0.5))
        failing = [e for e in group if e["status_code"] >= 400 or e["error"] is not None]
        assert close(row["error_rate(400)"], len(failing) / len(group))


OPS = {
    "eq": lambda v, x: v == x,
    "neq": lambda v, x: v != x,
    "gt": lambda v, x: v is not None and v > x,
    "gte": lambda v, x: v is not None and v >= x,
    "lt": lambda v, x: v is not None and v < x,
    "lte": lambda v, x: v is not None and v <= x,
    "in": lambda v, x: v in x,
    "not_in": lambda v, x: v not in x,
    "contains": lambda v, x: v is not None and x in v,
    "starts_with": lambda v, x: v is not None and v.startswith(x),
    "exists": lambda v, x: v is not None,
    "not_exists": lambda v, x: v is None,
}


@pytest.mark.parametrize(
    ("field", "op", "value"),
    [
        ("status_code", "eq", 201),
        ("status_code", "neq", 200),
        ("duration_ms", "gt", 100.5),
        ("duration_ms", "gte", 25),
        ("status_code", "lt", 300),
        ("status_code", "lte", 404),
        ("path", "in", ["/api/users", "/health"]),
        ("path", "not_in", ["/health"]),
        ("path", "contains", "users"),
        ("error", "starts_with", "upstream"),
        ("error", "exists", None),
        ("usage_sku", "not_exists", None),
        ("properties.plan", "eq", "pro"),
        ("properties.region", "not_in", ["apac"]),
        ("properties.route", "exists", None),
        ("properties.url", "starts_with", "https://app.example.com/orders"),
    ],
)
def test_each_filter_op(con, principal, events, field, op, value) -> None:
    body = {
        **RANGE,
        "filters": [{"field": field, "op": op, **({"value": value} if value is not None else {})}],
    }
    get = (
        (lambda e: prop(e, field.split(".", 1)[1]))
        if field.startswith("properties.")
        else (lambda e: e[field])
    )
    expected = [e for e in in_range(events, PROJECT, START, END) if OPS[op](get(e), value)]
    assert expected, "the case must select something to mean anything"
    assert query(con, principal, body) == [{"count": len(expected)}]


def test_fill_adds_empty_buckets_with_zero_counts_and_null_averages(con, principal, events) -> None:
    body = {
        "start": "2025-10-25T00:00:00Z",
        "end": "2025-10-25T06:00:00Z",
        "groupBy": "minute",
        "fill": True,
        "event": "signup",
        "metrics": ["count", "avg(duration_ms)", "rate"],
    }
    rows = query(con, principal, body)
    assert len(rows) == 360
    empty = [r for r in rows if r["count"] == 0]
    assert empty and all(r["avg(duration_ms)"] is None and r["rate"] == 0 for r in empty)
    start = datetime(2025, 10, 25, tzinfo=UTC)
    signups = in_range(events, PROJECT, start, datetime(2025, 10, 25, 6, tzinfo=UTC))
    assert sum(r["count"] for r in rows) == sum(e["event"] == "signup" for e in signups)


def test_limit_truncates_and_says_so(con, principal) -> None:
    result = run_query(con, principal, {**RANGE, "groupBy": "hour", "limit": 5}, now=NOW)
    assert (
        len(result.rows) == 5
        and result.meta["truncated"] is True
        and result.meta["tiers"] == ["hot"]
    )


def test_relative_times_resolve_against_now(con, principal, events) -> None:
    rows = query(con, principal, {"start": "-2d", "end": "now"})
    assert rows == [
        {"count": len(in_range(events, PROJECT, datetime(2025, 10, 27, tzinfo=UTC), NOW))}
    ]
