"""Every template against an independent plain-Python computation."""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from streamgauge.query.templates import ALIASES, list_templates, run_template

from .conftest import NOW, PROJECT
from .expected import bucket, close, in_range, prop, quantile

START, END = datetime(2025, 10, 25, tzinfo=UTC), datetime(2025, 10, 28, tzinfo=UTC)
RANGE = {"start": "2025-10-25T00:00:00Z", "end": "2025-10-28T00:00:00Z"}


def run(con, principal, name: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    return run_template(con, principal, name, body, now=NOW).rows


def test_templates_are_listed_with_their_parameters() -> None:
    listed = {t.name: t for t in list_templates()}
    assert set(listed) == {
        "performance",
        "errors",
        "users",
        "sessions",
        "retention",
        "funnel",
        "top",
        "anomalies",
        "usage",
    }
    assert "groupBy" in listed["performance"].parameters["properties"]
    assert set(ALIASES.values()) <= set(listed)


def test_performance_over_time(con, principal, events) -> None:
    rows = run(con, principal, "performance", {**RANGE, "groupBy": "hour"})
    groups: dict[datetime, list[float]] = defaultdict(list)
    for e in in_range(events, PROJECT, START, END):
        if e["duration_ms"] is not None:
            groups[bucket(e["timestamp"], "hour", "UTC")].append(e["duration_ms"])
    assert [r["time"] for r in rows] == sorted(groups)
    for row in rows:
        values = groups[row["time"]]
        assert row["requests"] == len(values) and row["max_ms"] == max(values)
        assert close(row["avg_ms"], sum(values) / len(values))
        for q in (50, 95, 99):
            assert close(row[f"p{q}_ms"], quantile(values, q / 100))


def test_performance_by_endpoint(con, principal, events) -> None:
    rows = run(con, principal, "performance", {**RANGE, "by": "endpoint"})
    groups: dict[tuple[str, str], list[float]] = defaultdict(list)
    for e in in_range(events, PROJECT, START, END):
        if e["duration_ms"] is not None:
            groups[(e["method"], e["path"])].append(e["duration_ms"])
    assert {(r["method"], r["path"]): r["requests"] for r in rows} == {
        k: len(v) for k, v in groups.items()
    }
    for row in rows:
        assert close(row["p95_ms"], quantile(groups[(row["method"], row["path"])], 0.95))


def test_errors_over_time_and_by_message(con, principal, events) -> None:
    rows = run(con, principal, "errors", {**RANGE, "groupBy": "day"})
    scoped = [e for e in in_range(events, PROJECT, START, END) if e["status_code"] is not None]
    for row in rows:
        day = [e for e in scoped if bucket(e["timestamp"], "day", "UTC") == row["time"]]
        failing = [e for e in day if e["status_code"] >= 500 or e["error"] is not None]
        assert row["requests"] == len(day) and close(row["error_rate"], len(failing) / len(day))
    by_message = run(con, principal, "errors", {**RANGE, "by": "error"})
    counts: dict[str, int] = defaultdict(int)
    for e in in_range(events, PROJECT, START, END):
        if e["error"] is not None:
            counts[e["error"]] += 1
    assert {r["error"]: r["errors"] for r in by_message} == counts
    by_status = run(con, principal, "errors", {**RANGE, "by": "status_code", "threshold": 400})
    statuses: dict[int, int] = defaultdict(int)
    for e in in_range(events, PROJECT, START, END):
        if e["status_code"] is not None and e["status_code"] >= 400:
            statuses[e["status_code"]] += 1
    assert {r["status_code"]: r["errors"] for r in by_status} == statuses


def test_top_dimension_by_metric(con, principal, events) -> None:
    rows = run(
        con,
        principal,
        "top",
        {**RANGE, "dimension": "properties.plan", "metric": "uniq(session_id)", "limit": 2},
    )
    sessions: dict[str, set[str]] = defaultdict(set)
    for e in in_range(events, PROJECT, START, END):
        sessions[prop(e, "plan")].add(e["session_id"])
    ranked = sorted(((len(v), k) for k, v in sessions.items()), key=lambda t: (-t[0], t[1]))[:2]
    assert [(r["uniq(session_id)"], r["properties.plan"]) for r in rows] == ranked


def _local_day(ts: datetime, tz: str) -> date:
    return ts.astimezone(ZoneInfo(tz)).date()


def test_users_dau_wau_mau_new_and_returning(con, principal, events) -> None:
    tz = "Europe/Berlin"
    rows = run(con, principal, "users", {**RANGE, "timezone": tz})
    mine = [
        e for e in events if e["project_id"] == PROJECT and e["user_id"] and e["timestamp"] < END
    ]
    first_seen: dict[str, datetime] = {}
    for e in mine:
        first_seen[e["user_id"]] = min(first_seen.get(e["user_id"], e["timestamp"]), e["timestamp"])
    days = defaultdict(set)
    for e in mine:
        days[_local_day(e["timestamp"], tz)].add(e["user_id"])
    in_range_days = defaultdict(set)
    for e in mine:
        if e["timestamp"] >= START:
            in_range_days[_local_day(e["timestamp"], tz)].add(e["user_id"])
    expected_days = [date(2025, 10, 25), date(2025, 10, 26), date(2025, 10, 27), date(2025, 10, 28)]
    assert [_local_day(r["time"], tz) for r in rows] == expected_days
    for row, day in zip(rows, expected_days, strict=True):

        def window(n: int, day: date = day) -> set[str]:
            return set().union(*(days[day - timedelta(days=k)] for k in range(n)))

        new = {u for u, seen in first_seen.items() if seen >= START and _local_day(seen, tz) == day}
        assert row["active_users"] == len(in_range_days[day])
        assert row["new_users"] == len(new) and row["returning_users"] == len(
            in_range_days[day]
        ) - len(new)
        assert (row["dau"], row["wau"], row["mau"]) == (
            len(window(1)),
            len(window(7)),
            len(window(30)),
        )


def test_sessions(con, principal, events) -> None:
    rows = run(con, principal, "sessions", {**RANGE, "groupBy": "day"})
    sessions: dict[str, list[datetime]] = defaultdict(list)
    for e in in_range(events, PROJECT, START, END):
        sessions[e["session_id"]].append(e["timestamp"])
    for row in rows:
        chosen = [s for s in sessions.values() if bucket(min(s), "day", "UTC") == row["time"]]
        durations = [(max(s) - min(s)) / timedelta(milliseconds=1) for s in chosen]
        assert row["sessions"] == len(chosen)
        assert close(row["avg_duration_ms"], sum(durations) / len(durations))
        assert close(row["median_duration_ms"], quantile(durations, 0.5))
        assert close(row["events_per_session"], sum(map(len, chosen)) / len(chosen))
        assert close(row["bounce_rate"], sum(len(s) == 1 for s in chosen) / len(chosen))


def test_retention_by_day(con, principal, events) -> None:
    body = {
        "start": "2025-10-22T00:00:00Z",
        "end": "2025-10-29T00:00:00Z",
        "period": "day",
        "periods": 4,
    }
    rows = run(con, principal, "retention", body)
    mine = [e for e in events if e["project_id"] == PROJECT and e["user_id"]]
    first: dict[str, date] = {}
    active: dict[str, set[date]] = defaultdict(set)
    for e in sorted(mine, key=lambda e: e["timestamp"]):
        first.setdefault(e["user_id"], e["timestamp"].date())
        active[e["user_id"]].add(e["timestamp"].date())
    expected = []
    for cohort in sorted(set(first.values())):
        members = [u for u, d in first.items() if d == cohort]
        for k in range(4):
            if cohort + timedelta(days=k) < date(2025, 10, 29):
                users = sum(cohort + timedelta(days=k) in active[u] for u in members)
                expected.append((cohort, len(members), k, users, users / len(members)))
    assert [
        (r["cohort"].date(), r["cohort_size"], r["period"], r["users"], r["share"]) for r in rows
    ] == expected


def test_funnel(con, principal, events) -> None:
    steps = ["page.view", "checkout.started", "checkout.completed"]
    body = {**RANGE, "steps": [{"event": s} for s in steps], "window": "6h"}
    rows = run(con, principal, "funnel", body)
    by_user: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for e in sorted(in_range(events, PROJECT, START, END), key=lambda e: e["timestamp"]):
        if e["user_id"]:
            by_user[e["user_id"]].append(e)
    reached: list[list[float]] = [[] for _ in steps]
    for user_events in by_user.values():
        times = [e["timestamp"] for e in user_events if e["event"] == steps[0]]
        if not times:
            continue
        t0 = previous = times[0]
        reached[0].append(0.0)
        for i, step in enumerate(steps[1:], start=1):
            later = [
                e["timestamp"]
                for e in user_events
                if e["event"] == step and previous < e["timestamp"] < t0 + timedelta(hours=6)
            ]
            if not later:
                break
            reached[i].append((later[0] - previous).total_seconds())
            previous = later[0]
    assert [r["users"] for r in rows] == [len(r) for r in reached]
    for i, row in enumerate(rows[1:], start=1):
        assert close(row["conversion_from_previous"], len(reached[i]) / len(reached[i - 1]))
        assert close(row["conversion_from_first"], len(reached[i]) / len(reached[0]))
        assert close(row["median_seconds_from_previous"], quantile(reached[i], 0.5))


def test_anomalies_score_each_bucket_against_its_trailing_median(con, principal, events) -> None:
    body = {
        "start": "2025-10-26T00:00:00Z",
        "end": "2025-10-28T00:00:00Z",
        "groupBy": "hour",
        "event": "api.request",
        "window": 24,
        "threshold": 2.0,
        "includeAll": True,
    }
    rows = run(con, principal, "anomalies", body)
    first = datetime(2025, 10, 25, tzinfo=UTC)
    counts = [0] * 72
    for e in in_range(events, PROJECT, first, END):
        if e["event"] == "api.request":
            counts[int((e["timestamp"] - first) / timedelta(hours=1))] += 1
    assert [r["time"] for r in rows] == [first + timedelta(hours=h) for h in range(24, 72)]
    for h, row in zip(range(24, 72), rows, strict=True):
        history = counts[h - 24 : h]
        median = statistics.median(history)
        mad = statistics.median(abs(x - median) for x in history) * 1.4826
        spread = mad or 1.2533 * statistics.fmean(abs(x - median) for x in history)
        assert (
            row["value"] == counts[h]
            and close(row["expected"], median)
            and close(row["spread"], spread)
        )
        assert close(row["score"], (counts[h] - median) / spread)
        assert row["anomaly"] is (abs(row["score"]) > 2.0)
    assert any(r["anomaly"] for r in rows)


@pytest.mark.parametrize("organization", [None, "org_1"])
def test_usage_per_organization_sku_and_unit(con, principal, events, organization) -> None:
    body = {"start": "2025-10-01T00:00:00Z", "end": "2025-10-31T23:59:59Z"}
    if organization:
        body["organizationId"] = organization
    rows = run(con, principal, "usage", body)
    totals: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    for e in events:
        if (
            e["project_id"] == PROJECT
            and e["usage_quantity"] is not None
            and organization in (None, e["organization_id"])
        ):
            totals[(e["organization_id"], e["usage_sku"], e["usage_unit"])].append(
                e["usage_quantity"]
            )
    assert [(r["organization_id"], r["usage_sku"], r["usage_unit"]) for r in rows] == sorted(totals)
    for row in rows:
        values = totals[(row["organization_id"], row["usage_sku"], row["usage_unit"])]
        assert row["events"] == len(values) and close(row["quantity"], sum(values))


def test_every_route_has_request_and_response_schemas() -> None:
    from streamgauge.query.schemas import endpoint_schemas

    paths, components = endpoint_schemas()
    assert {
        "/query",
        "/templates",
        "/metrics/performance",
        "/metrics/errors",
        "/metrics/users",
        "/billing/usage",
    } <= set(paths)
    assert {f"/templates/{name}" for name in ALIASES.values()} <= set(paths)
    usage = paths["/billing/usage"]
    assert usage.request == {"$ref": "#/components/schemas/UsageParams"}
    assert "organizationId" in components["UsageParams"]["properties"]
    assert "quantity" in components["UsageRow"]["properties"]
