"""``make bench-compare`` cannot rot: on a small data set every contender
answers the six questions as streamgauge does (exactly, or within float
rounding where sums run in another order), and a wrong answer is caught."""

from __future__ import annotations

from pathlib import Path

import pytest
from bench.compare import clickhouse, duckdb_direct, postgres, sg_http
from bench.compare.answers import compare
from bench.compare.dataset import QueryData
from bench.compare.measure import QueryRun, in_child
from bench.compare.questions import QUESTIONS
from bench.compare.workloads import agreement

from tests.conftest import REQUIRE_SERVICES, require_service

EVENTS = 20_000


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> QueryData:
    return QueryData.build(tmp_path_factory.mktemp("compare"), EVENTS)


@pytest.fixture(scope="module")
def reference(data: QueryData) -> QueryRun:
    return sg_http.queries(data, repeats=0)


def assert_agrees(reference: QueryRun, run: QueryRun) -> None:
    verdicts = agreement([reference, run])
    wrong = {q: v[run.contender] for q, v in verdicts.items() if v[run.contender][0] == "differs"}
    assert wrong == {}


@pytest.mark.slow
def test_streamgauge_answers_every_question_with_rows(reference: QueryRun) -> None:
    empty = [q.name for q in QUESTIONS if not reference.timings[q.name].answer]
    assert empty == []  # an empty answer would make every agreement below vacuous


@pytest.mark.slow
def test_duckdb_direct_agrees(data: QueryData, reference: QueryRun) -> None:
    assert_agrees(reference, in_child(duckdb_direct.queries, data.hot_store, 0))


@pytest.mark.slow
def test_chdb_agrees(data: QueryData, reference: QueryRun, tmp_path: Path) -> None:
    reason = clickhouse.unavailable()
    if reason:  # the test extra installs chdb: only a hand-made environment lacks it
        if REQUIRE_SERVICES:
            pytest.fail(f"{reason}; STREAMGAUGE_REQUIRE_SERVICES=1 forbids skipping")
        pytest.skip(reason)
    assert_agrees(reference, in_child(clickhouse.queries, data.parquet, tmp_path, 0))


@pytest.mark.slow
@pytest.mark.service
def test_postgresql_agrees(data: QueryData, reference: QueryRun) -> None:
    require_service("PostgreSQL", "127.0.0.1", 5432)
    with postgres.schema("streamgauge_bench_compare_test") as conn:
        assert_agrees(reference, postgres.queries(conn, data.csv, 0))


def test_a_changed_count_or_rate_is_a_difference() -> None:
    rows = [(1, "GET", 0.25)]
    assert compare("isf", rows, [(1, "GET", 0.25)]) == ("exact", "")
    assert compare("isf", rows, [(1, "GET", 0.25 * (1 + 1e-12))]) == ("close", "")
    assert compare("isf", rows, [(1, "GET", 0.2501)])[0] == "differs"
    assert compare("isf", rows, [(2, "GET", 0.25)])[0] == "differs"
    assert compare("isf", rows, [])[0] == "differs"
