"""ClickHouse-dialect SQL (Analytics Engine style) against hand-computed answers."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import pytest

from streamgauge.query.clickhouse import clickhouse_to_duckdb
from streamgauge.query.sql_source import HotEventSource

from .test_sql import BASE, ORG_O1, hot, source, sql

__all__ = ["hot", "source"]

EPOCH_12_00 = int(BASE.timestamp())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("SELECT count() AS n FROM events", [{"n": 10}]),
        (
            "SELECT intDiv(toUInt32(timestamp), 300) * 300 AS t, count() AS n"
            " FROM events GROUP BY t ORDER BY t",
            [{"t": EPOCH_12_00, "n": 5}, {"t": EPOCH_12_00 + 300, "n": 5}],
        ),
        (
            "SELECT toStartOfInterval(timestamp, INTERVAL 5 MINUTE) AS t, sum(duration_ms) AS s"
            " FROM events GROUP BY t ORDER BY t",
            [{"t": BASE, "s": 150.0}, {"t": BASE + timedelta(minutes=5), "s": 400.0}],
        ),
        # 10 values, unit weights: threshold ⌈0.95·10⌉ = 10 → the 10th, 100
        ("SELECT quantileExactWeighted(0.95)(duration_ms, 1) AS q FROM events", [{"q": 100.0}]),
        # weights 200/500 (i = 3, 7): total 2600, threshold 1300, reached at i = 4 → 50
        (
            "SELECT quantileExactWeighted(0.5)(duration_ms, status_code) AS q FROM events",
            [{"q": 50.0}],
        ),
        ("SELECT quantileWeighted(0.5)(duration_ms, 1) AS q FROM events", [{"q": 50.0}]),
        ("SELECT quantileWeighted(0)(duration_ms, 1) AS q FROM events", [{"q": 10.0}]),
        (
            "SELECT path, quantileWeighted(0.95)(duration_ms, 1) AS q FROM events"
            " GROUP BY path ORDER BY path",
            [{"path": "/a", "q": 50.0}, {"path": "/b", "q": 100.0}],
        ),
        (
            "SELECT toUInt32(5.7) AS a, intDiv(-7, 2) AS b, intDivOrZero(1, 0) AS c",
            [{"a": 5, "b": -3, "c": 0}],
        ),
        ("SELECT uniq(user_id) AS u, uniqExact(user_id) AS e FROM events", [{"u": 3, "e": 3}]),
        (
            "SELECT countIf(status_code >= 500) AS errors,"
            " sumIf(duration_ms, status_code = 500) AS s FROM events",
            [{"errors": 2, "s": 120.0}],
        ),
        (
            "SELECT multiIf(status_code >= 500, 'error', duration_ms > 50, 'slow', 'ok') AS kind,"
            " count() AS n FROM events GROUP BY kind ORDER BY kind",
            [{"kind": "error", "n": 2}, {"kind": "ok", "n": 4}, {"kind": "slow", "n": 4}],
        ),
        (
            "SELECT toStartOfFiveMinutes(timestamp) AS t, toUnixTimestamp(t) AS s, count() AS n"
            " FROM events WHERE timestamp >= toDateTime('2025-10-03 12:05:00') GROUP BY t",
            [{"t": BASE + timedelta(minutes=5), "s": EPOCH_12_00 + 300, "n": 5}],
        ),
        (
            "SELECT count() AS n FROM events WHERE status_code = {code:UInt32}",
            [{"n": 2}],
        ),
    ],
)
def test_clickhouse_query(
    source: HotEventSource, text: str, expected: list[dict[str, Any]]
) -> None:
    params = {"code": 500} if "{code" in text else {}
    assert sql(source, text, dialect="clickhouse", params=params).data == expected


def test_intervals_align_to_the_epoch_like_clickhouse(source: HotEventSource) -> None:
    seven = 7 * 60
    starts = [EPOCH_12_00 + 60 * i for i in range(10)]
    expected = Counter(s - s % seven for s in starts)
    result = sql(
        source,
        "SELECT toUInt32(toStartOfInterval(timestamp, INTERVAL 7 MINUTE)) AS t, count() AS n"
        " FROM events GROUP BY t ORDER BY t",
        dialect="clickhouse",
    )
    assert result.data == [{"t": t, "n": n} for t, n in sorted(expected.items())]
    assert len(result.data) == 2


def test_clickhouse_org_scope(source: HotEventSource) -> None:
    result = sql(
        source,
        "SELECT count() AS n, sum(duration_ms) AS s FROM events",
        dialect="clickhouse",
        principal=ORG_O1,
    )
    assert result.data == [{"n": 5, "s": 250.0}]


def test_respelling_leaves_strings_alone() -> None:
    [statement] = clickhouse_to_duckdb(
        "SELECT quantileWeighted(0.5)(duration_ms, 1), 'quantileWeighted(' AS s FROM events"
    )
    generated = statement.sql(dialect="duckdb")
    assert "QUANTILEEXACTWEIGHTED(0.5, duration_ms, 1)" in generated
    assert "'quantileWeighted(' AS s" in generated
