"""Meters and invoices over a generated month, checked against an independent computation."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from decimal import ROUND_CEILING, Decimal
from typing import Any

import duckdb
import msgspec
import pytest

from streamgauge.billing.answers import Billing
from streamgauge.config import BillingSettings
from streamgauge.errors import Forbidden
from streamgauge.scope import KeyScope, Principal

from .conftest import MONTH_START, PROJECT, load

Month = tuple[duckdb.DuckDBPyConnection, list[dict[str, Any]]]
ADMIN = Principal(PROJECT, KeyScope.READ)
OCTOBER = {"start": "2025-10-01T00:00:00Z", "end": "2025-11-01T00:00:00Z"}
SETTINGS = msgspec.convert(
    {
        "meters": [
            {"name": "peak", "aggregation": "max", "group_by": ["organization_id"]},
            {"name": "calls", "aggregation": "count", "group_by": ["usage_sku"]},
            {"name": "users", "aggregation": "unique_count", "value": "user_id",
             "group_by": ["organization_id"]},
            {"name": "last", "aggregation": "latest", "group_by": ["organization_id"]},
            {"name": "mean", "aggregation": "avg", "group_by": ["usage_sku"],
             "filters": [{"field": "usage_sku", "op": "eq", "value": "storage"}]},
        ],
        "prices": [
            {"sku": "ai-text", "model": "graduated", "tiers": [
                {"up_to": 50000, "unit_price": "0"}, {"up_to": 200000, "unit_price": "0.00002"},
                {"unit_price": "0.00001", "flat_fee": "3"}]},
            {"sku": "ai-image", "model": "package", "package_size": 100, "package_price": "1.99",
             "free_quantity": 1000},
            {"sku": "storage", "unit_price": "0.023", "minimum_charge": "5"},
        ],
    },
    BillingSettings,
    strict=False,
)  # fmt: skip
D = Decimal


def in_october(row: dict[str, Any]) -> bool:
    return row["project_id"] == PROJECT and MONTH_START <= row["timestamp"] < datetime(
        2025, 11, 1, tzinfo=UTC
    )


def q(value: float) -> Decimal:
    """The documented reading of a stored quantity: 9 decimal places."""
    return D(repr(value)).quantize(D("0.000000001"))


def expected_totals(rows: list[dict[str, Any]]) -> dict[tuple[str, str, str], Decimal]:
    totals: dict[tuple[str, str, str], Decimal] = defaultdict(Decimal)
    for row in filter(in_october, rows):
        key = (row["organization_id"], row["usage_sku"], row["usage_unit"])
        totals[key] += q(row["usage_quantity"])
    return totals


def expected_amount(sku: str, quantity: Decimal) -> Decimal:
    billable = max(D(0), quantity)
    if sku == "ai-text":
        amount = min(max(billable - 50000, D(0)), D(150000)) * D("0.00002")
        if billable > 200000:
            amount += (billable - 200000) * D("0.00001") + 3
    elif sku == "ai-image":
        blocks = (max(billable - 1000, D(0)) / 100).to_integral_value(rounding=ROUND_CEILING)
        amount = blocks * D("1.99")
    else:
        amount = max((billable * D("0.023")).quantize(D("0.01"), "ROUND_HALF_UP"), D(5))
    return amount.quantize(D("0.01"), "ROUND_HALF_UP")


def test_usage_meter_totals_match_an_independent_sum(month: Month) -> None:
    con, rows = month
    answer = Billing(SETTINGS).query_meter(con, ADMIN, "usage", OCTOBER)
    found = {
        (t.group["organization_id"], t.group["usage_sku"], t.group["usage_unit"]): t.value
        for t in answer.totals
    }
    assert found == expected_totals(rows)
    assert answer.as_of == max(r["timestamp"] for r in rows if in_october(r))


def test_invoices_for_every_organization_match_an_independent_computation(month: Month) -> None:
    con, rows = month
    report = Billing(SETTINGS).invoices(con, ADMIN, {"period": "2025-10"}, one=False)
    expected: dict[str, dict[str, Decimal]] = defaultdict(dict)
    for (org, sku, _unit), quantity in expected_totals(rows).items():
        expected[org][sku] = expected_amount(sku, quantity)
    found = {
        i.organization_id: {line.sku: line.amount for line in i.lines} for i in report.invoices
    }
    assert found == expected
    assert report.total == sum(sum(v.values()) for v in expected.values())
    for invoice in report.invoices:
        assert invoice.total == sum(line.amount for line in invoice.lines)


def test_day_windows_in_a_time_zone_add_up_to_the_totals(month: Month) -> None:
    con = month[0]
    body = {**OCTOBER, "window": "day", "timezone": "Europe/Berlin", "groupBy": ["usage_sku"]}
    answer = Billing(SETTINGS).query_meter(con, ADMIN, "usage", body)
    assert answer.series[0].start == OCTOBER_START and answer.series[-1].end == OCTOBER_END
    sums: dict[str | None, Decimal] = defaultdict(Decimal)
    for point in answer.series:
        sums[point.group["usage_sku"]] += point.value
    assert dict(sums) == {t.group["usage_sku"]: t.value for t in answer.totals}
    # 2025-10-26 in Berlin is 25 hours long (DST ends)
    long_day = [p for p in answer.series if p.start == datetime(2025, 10, 25, 22, tzinfo=UTC)]
    assert long_day[0].end == datetime(2025, 10, 26, 23, tzinfo=UTC)


OCTOBER_START = datetime(2025, 10, 1, tzinfo=UTC)
OCTOBER_END = datetime(2025, 11, 1, tzinfo=UTC)


@pytest.mark.parametrize("meter", ["peak", "calls", "users", "last", "mean"])
def test_each_aggregation_matches_python(month: Month, meter: str) -> None:
    con, rows = month
    answer = Billing(SETTINGS).query_meter(con, ADMIN, meter, OCTOBER)
    found = {tuple(t.group.values()): t.value for t in answer.totals}
    october = [r for r in rows if in_october(r)]
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = defaultdict(list)
    for row in october:
        if meter in ("peak", "last") and row["usage_quantity"] < 0:
            continue  # meters that do not allow negative values leave corrections out
        key = {"calls": ("usage_sku",), "mean": ("usage_sku",)}.get(meter, ("organization_id",))
        if meter == "mean" and (row["usage_sku"] != "storage" or row["usage_quantity"] < 0):
            continue
        groups[tuple(row[k] for k in key)].append(row)
    expected = {}
    for key, members in groups.items():
        values = [q(r["usage_quantity"]) for r in members]
        if meter == "peak":
            expected[key] = max(values)
        elif meter == "calls":
            expected[key] = D(len(members))
        elif meter == "users":
            expected[key] = D(len({r["user_id"] for r in members}))
        elif meter == "last":
            newest = max(members, key=lambda r: (r["timestamp"], r["event_id"]))
            expected[key] = q(newest["usage_quantity"])
        else:
            expected[key] = (sum(values) / len(values)).quantize(D("0.000000001"))
    assert {k: v.normalize() for k, v in found.items()} == {
        k: v.normalize() for k, v in expected.items()
    }


def test_a_scoped_key_sees_only_its_organization(month: Month) -> None:
    con = month[0]
    scoped = Principal(PROJECT, KeyScope.READ, organization_id="org_03")
    billing = Billing(SETTINGS)
    report = billing.invoices(con, scoped, {"period": "2025-10"}, one=False)
    assert [i.organization_id for i in report.invoices] == ["org_03"]
    grouped = billing.query_meter(con, scoped, "usage", {**OCTOBER, "groupBy": ["organization_id"]})
    assert [t.group for t in grouped.totals] == [{"organization_id": "org_03"}]
    with pytest.raises(Forbidden):
        billing.invoice(con, scoped, {"organizationId": "org_04", "period": "2025-10"})


def test_corrections_count_only_on_meters_that_allow_them() -> None:
    base = {"project_id": PROJECT, "event": "usage.tracked", "organization_id": "org_a",
            "usage_unit": "tokens", "usage_sku": "ai-text"}  # fmt: skip
    at = datetime(2025, 10, 5, tzinfo=UTC)
    rows = [
        {**base, "event_id": "a", "timestamp": at, "received_at": at, "usage_quantity": 1000.0},
        {**base, "event_id": "b", "timestamp": at, "received_at": at, "usage_quantity": -250.0},
    ]
    con = load(rows)
    strict = msgspec.convert(
        {"meters": [{"name": "strict", "group_by": ["organization_id"]}]}, BillingSettings
    )
    billing = Billing(strict)
    assert billing.query_meter(con, ADMIN, "usage", OCTOBER).totals[0].value == D(750)
    assert billing.query_meter(con, ADMIN, "strict", OCTOBER).totals[0].value == D(1000)
