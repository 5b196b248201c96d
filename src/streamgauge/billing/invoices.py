"""Invoices: each organization's meter totals for a period, priced line by line.

A line exists for each price whose meter the organization used in the period
(SKU, and unit when the price names one, matching). Its exact subtotal is
rounded once (``amounts.round_amount``); a ``minimum_charge`` then raises it;
the total is the sum of the rounded lines. Usage no price bills is listed as
``unpriced`` and never charged. A price without a unit refuses to bill a SKU
used in several units in one period: mixing them would bill a wrong number.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from streamgauge.config import BillingSettings, PriceConfig
from streamgauge.errors import ValidationFailed
from streamgauge.query.dsl import Filter
from streamgauge.query.fields import parse_field
from streamgauge.query.source import QueryContext

from .amounts import plain, round_amount
from .metering import MeterRow, aggregate_meter
from .meters import Meter, MeterCatalog
from .periods import Period
from .prices import PricedQuantity, price_quantity
from .schemas import Invoice, InvoiceLine, TierLine, UnpricedUsage

ORG, SKU, UNIT = "organization_id", "usage_sku", "usage_unit"


def rounding_rule(settings: BillingSettings) -> str:
    return (
        f"each line rounded once to {settings.decimals} decimals, {settings.rounding}; "
        "total = sum of rounded lines"
    )


def _billing_rows(
    ctx: QueryContext, meter: Meter, period: Period, organization_id: str | None
) -> list[MeterRow]:
    """The meter's period totals by organization (and SKU and unit, if the meter keeps them)."""
    dims = [f for f in meter.group_by if f.name in (SKU, UNIT)]
    org = next((f for f in meter.group_by if f.name == ORG), None)
    if org is None:
        org = parse_field(ORG, "organization_id")
    filters = [Filter(ORG, "eq", organization_id)] if organization_id else []
    totals = aggregate_meter(ctx, meter, period.range, group_by=[org, *dims], filters=filters)
    return [row for row in totals.totals if row.group[ORG] is not None]


def _matches(price: PriceConfig, meter: Meter, row: MeterRow) -> bool:
    if meter.groups_by(SKU) and row.group.get(SKU) != price.sku:
        return False
    return price.unit is None or _unit(meter, row) == price.unit


def _unit(meter: Meter, row: MeterRow) -> str | None:
    return meter.config.unit if meter.config.unit is not None else row.group.get(UNIT)


def _line(
    price: PriceConfig, meter: Meter, rows: list[MeterRow], settings: BillingSettings
) -> InvoiceLine:
    units = sorted({str(_unit(meter, r)) for r in rows})
    if len(rows) > 1:
        raise ValidationFailed(
            f"SKU {price.sku!r} was used in several units ({', '.join(units)}) in this period; "
            "give its price a 'unit' (one price per unit) in billing.prices",
            details={"sku": price.sku, "units": units},
        )
    row = rows[0]
    priced = price_quantity(price, row.value)
    subtotal = round_amount(priced.amount, settings.decimals, settings.rounding)
    minimum = round_amount(price.minimum_charge, settings.decimals, settings.rounding)
    return InvoiceLine(
        meter.name, price.sku, _unit(meter, row), price.description or price.sku, price.model,
        priced.quantity, price.free_quantity, priced.billable, _unit_price(price, priced),
        [TierLine(t.index, t.first_unit, t.up_to, t.quantity, t.unit_price, t.flat_fee,
                  plain(t.amount)) for t in priced.tiers],
        plain(priced.amount), minimum, minimum > subtotal, max(subtotal, minimum), row.events,
    )  # fmt: skip


def _unit_price(price: PriceConfig, priced: PricedQuantity) -> Decimal | None:
    if price.model == "per_unit":
        return price.unit_price
    if price.model == "package":
        return price.package_price
    if price.model == "volume" and priced.tiers:
        return priced.tiers[0].unit_price
    return None


def build_invoices(
    ctx: QueryContext,
    catalog: MeterCatalog,
    settings: BillingSettings,
    period: Period,
    *,
    organization_id: str | None = None,
    computed_at: datetime,
) -> list[Invoice]:
    """One invoice per organization with usage (or for ``organization_id``, even if idle)."""
    used = {p.meter for p in settings.prices} | {"usage"}
    rows = {name: _billing_rows(ctx, catalog.get(name), period, organization_id) for name in used}
    by_org: dict[str, dict[str, list[MeterRow]]] = {}
    if organization_id is not None:
        by_org[organization_id] = {}
    for name, found in rows.items():
        for row in found:
            by_org.setdefault(str(row.group[ORG]), {}).setdefault(name, []).append(row)
    return [
        _invoice(org, catalog, settings, period, {n: mine.get(n, []) for n in used}, computed_at)
        for org, mine in sorted(by_org.items())
    ]


def _invoice(
    org: str,
    catalog: MeterCatalog,
    settings: BillingSettings,
    period: Period,
    rows: dict[str, list[MeterRow]],
    computed_at: datetime,
) -> Invoice:
    lines: list[InvoiceLine] = []
    billed: set[tuple[str, int]] = set()
    for price in settings.prices:
        meter = catalog.get(price.meter)
        matching = [r for r in rows[price.meter] if _matches(price, meter, r)]
        billed.update((price.meter, id(r)) for r in matching)
        if matching:
            lines.append(_line(price, meter, matching, settings))
    unpriced = [
        UnpricedUsage(name, r.group.get(SKU), _unit(catalog.get(name), r), r.value, r.events)
        for name, meter_rows in rows.items()
        for r in meter_rows
        if (name, id(r)) not in billed
    ]
    everything = [r for meter_rows in rows.values() for r in meter_rows]
    return Invoice(
        org, period.label, period.start, period.end, settings.currency, lines,
        sorted(unpriced, key=lambda u: (u.meter, u.sku or "", u.unit or "")),
        round_amount(sum((line.amount for line in lines), Decimal(0)), settings.decimals,
                     settings.rounding), rounding_rule(settings),
        _latest(r.as_of for r in everything), _latest(r.received_through for r in everything),
        computed_at,
    )  # fmt: skip


def _latest(values: Iterable[datetime | None]) -> datetime | None:
    present = [v for v in values if v is not None]
    return max(present) if present else None
