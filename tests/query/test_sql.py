"""POST /sql as a library: accepted queries answer exactly, hostile ones never leak."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import msgspec
import pytest

from streamgauge.errors import QueryTimeout, StreamgaugeError
from streamgauge.model.event import Event, create_table_sql, events_to_arrow
from streamgauge.query.sql import SqlLimits, SqlResult, run_sql
from streamgauge.query.sql_guard import parse_user_sql, plan_scan
from streamgauge.query.sql_source import EventSource, EventStream, HotEventSource, ScanRequest
from streamgauge.scope import KeyScope, Principal

BASE = datetime(2025, 10, 3, 12, 0, tzinfo=UTC)
MINE = Principal("p1", KeyScope.READ)
ORG_O1 = Principal("p1", KeyScope.READ, organization_id="o1")


def _us(at: datetime) -> int:
    return int(at.timestamp()) * 1_000_000


def _own_events() -> list[Event]:
    """p1: ten requests a minute apart; durations 10..100; i = 3, 7 fail with 500."""
    return [
        Event(
            project_id="p1",
            event_id=f"p1-{i}",
            event="api.request",
            timestamp=_us(BASE + timedelta(minutes=i)),
            received_at=_us(BASE + timedelta(minutes=i)),
            user_id=f"u{i % 3}",
            organization_id="o1" if i % 2 == 0 else "o2",
            duration_ms=10.0 * (i + 1),
            status_code=500 if i in (3, 7) else 200,
            path="/a" if i < 5 else "/b",
        )
        for i in range(10)
    ]


def _foreign_events() -> list[Event]:
    """Another project with the same organization id, and rows marked 'secret'."""
    return [
        Event(
            project_id="p2",
            event_id=f"p2-{i}",
            event="secret",
            timestamp=_us(BASE + timedelta(minutes=i)),
            received_at=_us(BASE),
            organization_id="o1",
            duration_ms=1000.0,
            status_code=200,
            path="/secret",
        )
        for i in range(5)
    ]


@pytest.fixture(scope="module")
def hot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    path: Path = tmp_path_factory.mktemp("hot") / "hot.duckdb"
    con = duckdb.connect(str(path))
    con.execute(create_table_sql())
    con.register("incoming", events_to_arrow(_own_events() + _foreign_events()))
    con.execute("INSERT INTO events SELECT * FROM incoming")
    con.unregister("incoming")
    con.execute("SET TimeZone = 'America/New_York'")  # answers must not depend on it
    yield con
    con.close()


@pytest.fixture(scope="module")
def source(hot: duckdb.DuckDBPyConnection) -> HotEventSource:
    return HotEventSource(hot)


class _RecordingSource:
    """A source that remembers what it was asked for."""

    def __init__(self, inner: HotEventSource) -> None:
        self.inner = inner
        self.scans: list[ScanRequest] = []

    def open_stream(self, scan: ScanRequest) -> EventStream:
        self.scans.append(scan)
        return self.inner.open_stream(scan)

    def tiers(self, scan: ScanRequest) -> list[str]:
        return self.inner.tiers(scan)


def sql(
    source: EventSource,
    text: str,
    *,
    principal: Principal = MINE,
    dialect: str = "duckdb",
    params: dict[str, Any] | None = None,
    limits: SqlLimits | None = None,
) -> SqlResult:
    request = {"sql": text, "dialect": dialect, "params": params or {}}
    return run_sql(source, principal, request, limits or SqlLimits(timeout_s=5))


# -- accepted queries, against hand-computed answers ----------------------------------


def test_count_and_average(source: HotEventSource) -> None:
    result = sql(source, "SELECT count(*) AS n, avg(duration_ms) AS avg_ms FROM events")
    assert result.data == [{"n": 10, "avg_ms": 55.0}]
    assert [(c.name, c.type) for c in result.columns] == [("n", "BIGINT"), ("avg_ms", "DOUBLE")]
    assert result.meta.rows == 1
    assert result.meta.truncated is False
    assert result.meta.tiers == ["hot"]


def test_group_by_with_percentile(source: HotEventSource) -> None:
    result = sql(
        source,
        "SELECT path, count(*) AS n, avg(duration_ms) AS avg_ms,"
        " quantile_cont(duration_ms, 0.95) AS p95 FROM events GROUP BY path ORDER BY path",
    )
    # /a: 10..50 → p95 at rank 3.8: 40 + 0.8·10; /b: 60..100 → 90 + 0.8·10
    assert result.data == [
        {"path": "/a", "n": 5, "avg_ms": 30.0, "p95": 48.0},
        {"path": "/b", "n": 5, "avg_ms": 80.0, "p95": 98.0},
    ]


def test_named_parameters_are_bound(source: HotEventSource) -> None:
    result = sql(
        source,
        "SELECT count(*) AS n FROM events WHERE status_code = $code AND path = $path",
        params={"code": 500, "path": "/a' OR '1'='1"},
    )
    assert result.data == [{"n": 0}]
    result = sql(
        source, "SELECT count(*) AS n FROM events WHERE status_code = $code", params={"code": 500}
    )
    assert result.data == [{"n": 2}]


def test_time_range_is_half_open_and_pushed_to_the_source(source: HotEventSource) -> None:
    text = (
        "SELECT count(*) AS n, min(timestamp) AS first FROM events"
        " WHERE timestamp >= $start AND timestamp < '2025-10-03T12:06:00Z'"
    )
    recording = _RecordingSource(source)
    result = sql(recording, text, params={"start": "2025-10-03T12:03:00Z"})
    assert result.data == [{"n": 3, "first": BASE + timedelta(minutes=3)}]
    [scan] = recording.scans
    assert (scan.columns, scan.start, scan.end) == (
        ("timestamp",),
        BASE + timedelta(minutes=3),
        BASE + timedelta(minutes=6),
    )
    plan = plan_scan(parse_user_sql(text, "duckdb").expression)
    assert [b.sql("duckdb") for b in plan.lower or []] == ["$start"]


def test_no_pushdown_when_one_scan_is_unbounded(source: HotEventSource) -> None:
    text = (
        "SELECT (SELECT count(*) FROM events WHERE timestamp < '2025-10-03T12:02:00Z') AS early,"
        " (SELECT count(*) FROM events) AS total"
    )
    assert plan_scan(parse_user_sql(text, "duckdb").expression).upper is None
    assert sql(source, text).data == [{"early": 2, "total": 10}]


def test_self_join_scans_twice(source: HotEventSource) -> None:
    result = sql(
        source,
        "SELECT count(*) AS n FROM events a JOIN events b ON a.user_id = b.user_id",
    )
    # users u0: 4 events, u1: 3, u2: 3 → 16 + 9 + 9 pairs
    assert result.data == [{"n": 34}]


def test_organization_scoped_key_sees_its_organization_only(source: HotEventSource) -> None:
    result = sql(
        source,
        "SELECT count(*) AS n, sum(duration_ms) AS total FROM events",
        principal=ORG_O1,
    )
    assert result.data == [{"n": 5, "total": 250.0}]


def test_explain_is_allowed(source: HotEventSource) -> None:
    result = sql(source, "EXPLAIN SELECT count(*) FROM events")
    assert [c.name for c in result.columns] == ["explain_key", "explain_value"]


def test_row_cap_sets_truncated(source: HotEventSource) -> None:
    result = sql(source, "SELECT * FROM range(10) t(i)", limits=SqlLimits(max_rows=3))
    assert result.data == [{"i": 0}, {"i": 1}, {"i": 2}]
    assert (result.meta.rows, result.meta.truncated) == (3, True)
    exact = sql(source, "SELECT * FROM range(3) t(i)", limits=SqlLimits(max_rows=3))
    assert (exact.meta.rows, exact.meta.truncated) == (3, False)


def test_time_limit_interrupts_and_the_source_stays_usable(source: HotEventSource) -> None:
    started = time.monotonic()
    with pytest.raises(QueryTimeout) as raised:
        sql(
            source,
            # a trillion rows streamed in constant memory: it can only end by interruption
            "SELECT count(*) FROM range(1000000000000) WHERE range % 7 = 8",
            limits=SqlLimits(timeout_s=0.5),
        )
    assert time.monotonic() - started < 0.5 + 1.5
    assert raised.value.status == 408
    assert "0.5 s limit" in raised.value.message
    assert sql(source, "SELECT count(*) AS n FROM events").data == [{"n": 10}]


def test_result_encodes_as_the_documented_json(source: HotEventSource) -> None:
    result = sql(source, "SELECT timestamp FROM events ORDER BY timestamp LIMIT 1")
    assert msgspec.json.decode(msgspec.json.encode(result)) == {
        "columns": [{"name": "timestamp", "type": "TIMESTAMP WITH TIME ZONE"}],
        "data": [{"timestamp": "2025-10-03T12:00:00Z"}],
        "meta": {
            "rows": 1,
            "elapsed_ms": result.meta.elapsed_ms,
            "truncated": False,
            "tiers": ["hot"],
        },
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("SELEC 1", "syntax"),
        ("SELECT nope FROM events", "nope"),
        ("SELECT no_such_function(1)", "no_such_function"),
        ("SELECT 1 +", "syntax"),
        ("SELECT $missing", "$missing"),
        ("SELECT ?", "named parameters"),
        ("SELECT * FROM evnts", "evnts"),
        ("SELECT 'x'::INTEGER", "Conversion"),
    ],
)
def test_bad_sql_is_a_clear_400(source: HotEventSource, text: str, message: str) -> None:
    with pytest.raises(StreamgaugeError) as raised:
        sql(source, text)
    assert raised.value.status == 400
    assert message in raised.value.message
    assert "LINE 1" not in raised.value.message


def test_unused_parameter_and_bad_request_shape_are_400(source: HotEventSource) -> None:
    with pytest.raises(StreamgaugeError) as unused:
        sql(source, "SELECT 1", params={"x": 1})
    with pytest.raises(StreamgaugeError) as shape:
        run_sql(source, MINE, {"sql": "SELECT 1", "dialect": "mysql"})
    assert (unused.value.status, shape.value.status) == (400, 400)


def test_write_keys_may_not_query(source: HotEventSource) -> None:
    with pytest.raises(StreamgaugeError) as raised:
        sql(source, "SELECT 1", principal=Principal("p1", KeyScope.WRITE))
    assert raised.value.status == 403
