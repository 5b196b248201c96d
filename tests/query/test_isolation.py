"""A caller sees its project only, and an organization-scoped caller its organization only."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from streamgauge.query import run_query
from streamgauge.query.templates import REGISTRY, run_template
from streamgauge.scope import KeyScope, Principal

from .conftest import NOW
from .expected import close

R = {"start": "2025-10-22T00:00:00Z", "end": "2025-10-29T00:00:00Z"}
BODIES = {
    "funnel": {**R, "steps": [{"event": "page.view"}, {"event": "signup"}]},
    "top": {**R, "dimension": "organization_id"},
    "anomalies": {**R, "includeAll": True},
}


def test_each_project_sees_only_its_rows(con, events) -> None:
    for project in ("proj_0", "proj_1", "proj_2"):
        rows = run_query(
            con, Principal(project, KeyScope.READ), {**R, "dimensions": ["project_id"]}, now=NOW
        ).rows
        assert rows == [
            {"project_id": project, "count": sum(e["project_id"] == project for e in events)}
        ]


def test_a_filter_cannot_widen_the_project(con, events) -> None:
    body = {
        **R,
        "dimensions": ["project_id"],
        "filters": [{"field": "project_id", "op": "eq", "value": "proj_1"}],
    }
    assert run_query(con, Principal("proj_0", KeyScope.READ), body, now=NOW).rows == []


def test_unknown_project_sees_nothing(con) -> None:
    assert run_query(con, Principal("proj_x", KeyScope.READ), R, now=NOW).rows == [{"count": 0}]


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_org_scoped_principal_sees_only_its_organization(con, events, name) -> None:
    scoped = Principal("proj_0", KeyScope.READ, organization_id="org_1")
    body = BODIES.get(name, R)
    scoped_rows = run_template(con, scoped, name, body, now=NOW).rows
    # The same question over a table holding only org_1's rows must answer the same.
    con.execute(
        "CREATE OR REPLACE TEMP TABLE only_org AS "
        "SELECT * FROM events WHERE organization_id = 'org_1'"
    )
    alone = run_template(
        con,
        Principal("proj_0", KeyScope.READ),
        name,
        body,
        now=NOW,
        relation_for=lambda start, end: ("only_org", ["hot"]),
    ).rows
    # Parallel float sums may differ in the last bit between two tables: compare to 1e-9.
    assert _same(scoped_rows, alone)
    orgs = run_query(con, scoped, {**R, "dimensions": ["organization_id"]}, now=NOW).rows
    assert [r["organization_id"] for r in orgs] == ["org_1"]


def _same(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> bool:
    assert [r.keys() for r in a] == [r.keys() for r in b]
    for x, y in zip(a, b, strict=True):
        for key, value in x.items():
            if isinstance(value, float):
                assert close(value, y[key]), (key, value, y[key])
            else:
                assert value == y[key], (key, value, y[key])
    return True


def test_relation_for_receives_the_range_and_names_the_tiers(con) -> None:
    seen: list[tuple[datetime, datetime]] = []

    def relation_for(start: datetime, end: datetime) -> tuple[str, list[str]]:
        seen.append((start, end))
        return "(SELECT * FROM events)", ["hot", "archive"]

    result = run_query(
        con, Principal("proj_0", KeyScope.READ), R, relation_for=relation_for, now=NOW
    )
    assert seen == [(datetime(2025, 10, 22, tzinfo=UTC), datetime(2025, 10, 29, tzinfo=UTC))]
    assert result.meta["tiers"] == ["hot", "archive"]
