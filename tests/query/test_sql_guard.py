"""Hostile SQL: each statement is refused with a 4xx, or answers with the caller's rows only."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streamgauge.errors import BadRequest, StreamgaugeError
from streamgauge.query.sql_guard import parse_user_sql
from streamgauge.query.sql_source import HotEventSource
from streamgauge.scope import Principal

from .test_sql import MINE, ORG_O1, hot, source, sql

__all__ = ["hot", "source"]

REFUSED = "refused"

HOSTILE: list[tuple[str, str, Principal, Any]] = [
    # files and directories
    ("SELECT * FROM read_csv('/etc/passwd')", "duckdb", MINE, REFUSED),
    ("SELECT * FROM read_csv_auto('/etc/passwd', sep=':')", "duckdb", MINE, REFUSED),
    ("SELECT * FROM read_parquet('/tmp/*.parquet')", "duckdb", MINE, REFUSED),
    ("SELECT * FROM read_text('/etc/hostname')", "duckdb", MINE, REFUSED),
    ("SELECT * FROM read_blob('/etc/hostname')", "duckdb", MINE, REFUSED),
    ("SELECT * FROM read_json('/etc/os-release')", "duckdb", MINE, REFUSED),
    ("SELECT * FROM glob('/etc/*')", "duckdb", MINE, REFUSED),
    ("SELECT * FROM sniff_csv('/etc/passwd')", "duckdb", MINE, REFUSED),
    ("SELECT * FROM '/etc/passwd'", "duckdb", MINE, REFUSED),
    ("SELECT * FROM 'data/hot.duckdb'", "duckdb", MINE, REFUSED),
    ("SELECT count(*) FROM (SELECT * FROM read_csv('/etc/passwd'))", "duckdb", MINE, REFUSED),
    ("COPY (SELECT * FROM events) TO '/tmp/leak.csv'", "duckdb", MINE, REFUSED),
    ("COPY events FROM '/etc/passwd'", "duckdb", MINE, REFUSED),
    ("EXPORT DATABASE '/tmp/leak'", "duckdb", MINE, REFUSED),
    # other databases, extensions, settings
    ("ATTACH 'data/hot.duckdb' AS hot (READ_ONLY)", "duckdb", MINE, REFUSED),
    ("ATTACH ':memory:' AS scratch", "duckdb", MINE, REFUSED),
    ("INSTALL httpfs", "duckdb", MINE, REFUSED),
    ("LOAD httpfs", "duckdb", MINE, REFUSED),
    ("PRAGMA database_list", "duckdb", MINE, REFUSED),
    ("SET enable_external_access = true", "duckdb", MINE, REFUSED),
    ("RESET memory_limit", "duckdb", MINE, REFUSED),
    ("SET lock_configuration = false", "duckdb", MINE, REFUSED),
    ("SELECT current_setting('memory_limit')", "duckdb", MINE, REFUSED),
    ("SELECT getenv('HOME')", "duckdb", MINE, REFUSED),
    ("SELECT * FROM duckdb_settings()", "duckdb", MINE, REFUSED),
    ("SELECT * FROM duckdb_tables()", "duckdb", MINE, REFUSED),
    ("SELECT * FROM duckdb_databases()", "duckdb", MINE, REFUSED),
    ("SELECT * FROM pragma_database_size()", "duckdb", MINE, REFUSED),
    ("SELECT * FROM query('SELECT * FROM duckdb_settings()')", "duckdb", MINE, REFUSED),
    ("SELECT sleep_ms(100000)", "duckdb", MINE, REFUSED),
    # writes and DDL
    ("CREATE TABLE stolen AS SELECT * FROM events", "duckdb", MINE, REFUSED),
    ("INSERT INTO events SELECT * FROM events", "duckdb", MINE, REFUSED),
    ("UPDATE events SET project_id = 'p2'", "duckdb", MINE, REFUSED),
    ("DELETE FROM events", "duckdb", MINE, REFUSED),
    ("DROP VIEW events", "duckdb", MINE, REFUSED),
    ("CREATE MACRO m(x) AS x", "duckdb", MINE, REFUSED),
    ("SELECT 1; SELECT * FROM read_csv('/etc/passwd')", "duckdb", MINE, REFUSED),
    ("SELECT 1; DROP VIEW events", "duckdb", MINE, REFUSED),
    ("WITH events AS (SELECT 'p2' AS project_id) SELECT * FROM events", "duckdb", MINE, REFUSED),
    # other catalogs and schemas: nothing but the caller's view exists
    ("SELECT count(*) FROM main.events", "duckdb", MINE, REFUSED),
    ("SELECT count(*) FROM hot.main.events", "duckdb", MINE, REFUSED),
    ("SELECT count(*) FROM memory.main.events", "duckdb", MINE, REFUSED),
    ("SELECT count(*) FROM temp.main.events", "duckdb", MINE, REFUSED),
    ("SELECT * FROM system.main.duckdb_tables()", "duckdb", MINE, REFUSED),
    # project escapes that are legal SQL: only the caller's rows exist to be found
    ("SELECT count(*) AS n FROM events WHERE project_id = 'p2'", "duckdb", MINE, [{"n": 0}]),
    (
        "SELECT count(*) AS n FROM events WHERE project_id <> 'p1' OR true",
        "duckdb",
        MINE,
        [{"n": 10}],
    ),
    (
        "SELECT count(*) AS n FROM (SELECT * FROM events WHERE 1 = 1 OR project_id = 'p2')",
        "duckdb",
        MINE,
        [{"n": 10}],
    ),
    (
        "WITH everything AS (SELECT * FROM events) SELECT count(*) AS n FROM everything",
        "duckdb",
        MINE,
        [{"n": 10}],
    ),
    (
        "SELECT count(*) AS n FROM (SELECT project_id FROM events UNION ALL"
        " SELECT project_id FROM events WHERE project_id = 'p2')",
        "duckdb",
        MINE,
        [{"n": 10}],
    ),
    ("SELECT DISTINCT project_id FROM events", "duckdb", MINE, [{"project_id": "p1"}]),
    ("SELECT e FROM events e WHERE e.event = 'secret'", "duckdb", MINE, []),
    # organization escapes for an organization-scoped key
    (
        "SELECT DISTINCT organization_id FROM events WHERE organization_id = 'o2' OR true",
        "duckdb",
        ORG_O1,
        [{"organization_id": "o1"}],
    ),
    (
        "SELECT count(*) AS n FROM events a FULL JOIN events b USING (organization_id)",
        "duckdb",
        ORG_O1,
        [{"n": 25}],
    ),
    (
        "WITH o AS (SELECT organization_id FROM events) SELECT count(*) AS n FROM o"
        " WHERE organization_id IN ('o1', 'o2')",
        "duckdb",
        ORG_O1,
        [{"n": 5}],
    ),
    # the same through the clickhouse dialect
    ("SELECT count() AS n FROM events WHERE project_id = 'p2'", "clickhouse", MINE, [{"n": 0}]),
    (
        "SELECT count() AS n FROM (SELECT * FROM events UNION ALL SELECT * FROM events)",
        "clickhouse",
        ORG_O1,
        [{"n": 10}],
    ),
    ("SELECT * FROM file('/etc/passwd', 'CSV')", "clickhouse", MINE, REFUSED),
    ("SELECT * FROM url('http://127.0.0.1/', 'CSV')", "clickhouse", MINE, REFUSED),
    ("SELECT count() FROM system.tables", "clickhouse", MINE, REFUSED),
    ("INSERT INTO events SELECT * FROM events", "clickhouse", MINE, REFUSED),
]


@pytest.mark.parametrize(
    ("text", "dialect", "principal", "expected"),
    HOSTILE,
    ids=[f"{i:02d}-{case[0][:40]}" for i, case in enumerate(HOSTILE)],
)
def test_hostile_statement(
    source: HotEventSource, text: str, dialect: str, principal: Principal, expected: Any
) -> None:
    if expected == REFUSED:
        with pytest.raises(StreamgaugeError) as raised:
            sql(source, text, principal=principal, dialect=dialect)
        assert 400 <= raised.value.status < 500, raised.value.message
        return
    result = sql(source, text, principal=principal, dialect=dialect)
    assert result.data == expected
    dumped = msgspec.json.encode(result).decode()
    assert "p2" not in dumped and "secret" not in dumped


def test_the_list_is_long_enough() -> None:
    assert len(HOSTILE) >= 30


@pytest.mark.parametrize("dialect", ["duckdb", "clickhouse"])
@pytest.mark.parametrize("sql", ["", "   ", ";", "-- only a comment", "/* */"])
def test_empty_statements_are_a_clear_400(sql: str, dialect: str) -> None:
    with pytest.raises(BadRequest, match="exactly one statement is allowed, got 0"):
        parse_user_sql(sql, dialect)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80), st.sampled_from(["duckdb", "clickhouse"]))
def test_any_text_is_a_statement_or_a_clear_error(sql: str, dialect: str) -> None:
    try:
        parse_user_sql(sql, dialect)
    except StreamgaugeError as error:
        assert 400 <= error.status < 500 and error.message
