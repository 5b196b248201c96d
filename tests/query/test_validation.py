"""Bad requests are refused with a 400 that names the field and what to fix."""

from __future__ import annotations

from typing import Any

import pytest

from streamgauge.errors import Forbidden, NotFound, ValidationFailed
from streamgauge.query import run_query
from streamgauge.query.templates import run_template
from streamgauge.scope import KeyScope, Principal

from .conftest import NOW

R = {"start": "2025-10-25T00:00:00Z", "end": "2025-10-26T00:00:00Z"}


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({**R, "colour": "red"}, "unknown field `colour`"),
        ({**R, "start": "yesterday"}, "start: 'yesterday' is not a time"),
        ({**R, "end": "-5x"}, "end: '-5x' is not a time"),
        ({"start": "2025-10-26T00:00:00Z", "end": "2025-10-25T00:00:00Z"}, "must be after start"),
        ({**R, "groupBy": "fortnight"}, "groupBy: 'fortnight' is not a bucket size"),
        ({**R, "groupBy": "minute", "start": "2015-01-01T00:00:00Z"}, "more than 100000 buckets"),
        ({**R, "timezone": "Mars/Olympus"}, "not an IANA time zone"),
        (
            {**R, "metrics": ["median(duration_ms)"]},
            "metrics[0]: 'median(duration_ms)' is not a metric",
        ),
        ({**R, "metrics": ["avg(path)"]}, "'path' is not numeric"),
        ({**R, "metrics": ["p100(duration_ms)"]}, "is not a metric"),
        ({**R, "metrics": ["p0.5(duration_ms)"]}, "out of range"),
        ({**R, "metrics": ["error_rate(42)"]}, "threshold 100..599"),
        ({**R, "metrics": ["count", {"metric": "count"}]}, "same name"),
        ({**R, "metrics": [{"metric": "count", "as": ""}]}, "metrics[0].as"),
        ({**R, "metrics": []}, "metrics: give 1..50"),
        (
            {**R, "dimensions": ["path; DROP TABLE events"]},
            "dimensions[0]: 'path; DROP TABLE events' is not a field",
        ),
        ({**R, "dimensions": ["properties.a'b"]}, "is not a field"),
        ({**R, "filters": [{"field": "status_code", "op": "like", "value": 1}]}, "filters[0].op"),
        (
            {**R, "filters": [{"field": "status_code", "op": "eq", "value": "500"}]},
            "filters[0]: 'status_code' is numeric",
        ),
        ({**R, "filters": [{"field": "path", "op": "eq", "value": 3}]}, "'path' is text"),
        ({**R, "filters": [{"field": "path", "op": "in", "value": "x"}]}, "takes a list"),
        ({**R, "filters": [{"field": "path", "op": "exists", "value": "x"}]}, "takes no value"),
        ({**R, "filters": [{"field": "path", "op": "eq"}]}, "needs a 'value'"),
        ({**R, "filters": [{"field": "properties", "op": "eq", "value": "x"}]}, "is a JSON object"),
        (
            {**R, "filters": [{"field": "status_code", "op": "contains", "value": "5"}]},
            "text field",
        ),
        ({**R, "orderBy": [{"field": "nope"}]}, "orderBy[0].field: 'nope' is not an output column"),
        ({**R, "limit": 0}, "limit: give 1..100000"),
        ({**R, "limit": "ten"}, "Expected `int`"),
    ],
)
def test_dsl_validation(con, principal, body: dict[str, Any], says: str) -> None:
    with pytest.raises(ValidationFailed) as raised:
        run_query(con, principal, body, now=NOW)
    assert raised.value.status == 400
    assert says in raised.value.message


@pytest.mark.parametrize(
    ("name", "body", "says"),
    [
        ("performance", {**R, "by": "region"}, "Invalid enum value 'region' - at `$.by`"),
        ("errors", {**R, "threshold": 42}, "threshold 100..599"),
        ("funnel", {**R, "steps": [{"event": "signup"}]}, "steps: give 2..10"),
        (
            "funnel",
            {**R, "steps": [{"event": "a"}, {"event": "b"}], "window": "1y"},
            "window: '1y' is not a duration",
        ),
        ("retention", {**R, "periods": 0}, "periods: give 1..104"),
        ("anomalies", {**R, "window": 1}, "window: give 3..1000"),
        ("anomalies", {**R, "groupBy": "none"}, "anomalies need time buckets"),
        ("users", {**R, "groupBy": "hour"}, "at `$.groupBy`"),
        ("top", {**R, "dimension": "nope"}, "'nope' is not a field"),
        ("usage", {**R, "organisation": "x"}, "unknown field `organisation`"),
    ],
)
def test_template_validation(con, principal, name: str, body: dict[str, Any], says: str) -> None:
    with pytest.raises(ValidationFailed) as raised:
        run_template(con, principal, name, body, now=NOW)
    assert says in raised.value.message


def test_unknown_template_is_404(con, principal) -> None:
    with pytest.raises(NotFound):
        run_template(con, principal, "horoscope", {}, now=NOW)


def test_org_scoped_key_cannot_ask_for_another_organization(con) -> None:
    scoped = Principal("proj_0", KeyScope.READ, organization_id="org_1")
    with pytest.raises(Forbidden):
        run_template(con, scoped, "usage", {**R, "organizationId": "org_2"}, now=NOW)


def test_body_must_be_an_object(con, principal) -> None:
    with pytest.raises(ValidationFailed, match="JSON object"):
        run_query(con, principal, [1, 2], now=NOW)
