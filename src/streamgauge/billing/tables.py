"""Billing answers as flat tables, for CSV (and the other row formats).

An invoice becomes rows of ``kind``: ``line`` (one per priced SKU), ``tier``
(its breakdown), ``unpriced`` (usage no price bills) and ``total``; a meter
query becomes its series rows, or its totals when it has no window.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from streamgauge.query.result import ColumnInfo, QueryResult
from streamgauge.query.timerange import format_instant

from .schemas import Invoice, MeterQueryResponse

INVOICE_COLUMNS = (
    "organization_id", "period_start", "period_end", "kind", "meter", "sku", "unit", "tier",
    "quantity", "unit_price", "amount", "currency", "as_of",
)  # fmt: skip


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return format_instant(value)
    return str(value)


def _table(columns: Iterable[str], rows: list[dict[str, Any]]) -> QueryResult:
    names = list(columns)
    text_rows = [{name: _text(row.get(name)) for name in names} for row in rows]
    meta = {"rows": len(text_rows), "elapsed_ms": 0.0, "truncated": False, "tiers": ["hot"]}
    return QueryResult([ColumnInfo(name, "string") for name in names], text_rows, meta)


def invoice_rows(invoice: Invoice) -> list[dict[str, Any]]:
    base = {
        "organization_id": invoice.organization_id, "period_start": invoice.start,
        "period_end": invoice.end, "currency": invoice.currency, "as_of": invoice.as_of,
    }  # fmt: skip
    rows: list[dict[str, Any]] = []
    for line in invoice.lines:
        common = {**base, "meter": line.meter, "sku": line.sku, "unit": line.unit}
        rows.append({**common, "kind": "line", "quantity": line.quantity,
                     "unit_price": line.unit_price, "amount": line.amount})  # fmt: skip
        for tier in line.tiers:
            rows.append({**common, "kind": "tier", "tier": tier.tier, "quantity": tier.quantity,
                         "unit_price": tier.unit_price, "amount": tier.amount})  # fmt: skip
    for usage in invoice.unpriced:
        found = {"meter": usage.meter, "sku": usage.sku, "unit": usage.unit}
        rows.append({**base, **found, "kind": "unpriced", "quantity": usage.quantity,
                     "amount": Decimal(0)})  # fmt: skip
    rows.append({**base, "kind": "total", "amount": invoice.total})
    return rows


def invoices_table(invoices: list[Invoice]) -> QueryResult:
    return _table(INVOICE_COLUMNS, [row for i in invoices for row in invoice_rows(i)])


def meter_table(answer: MeterQueryResponse) -> QueryResult:
    points = answer.series if answer.window != "none" else answer.totals
    columns = ["start", "end", *answer.group_by, "value", "events"]
    rows = [
        {"start": p.start, "end": p.end, **p.group, "value": p.value, "events": p.events}
        for p in points
    ]
    return _table(columns, rows)
