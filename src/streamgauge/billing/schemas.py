"""Request and response shapes of the billing endpoints (and their OpenAPI schemas).

Quantities and amounts are ``Decimal`` and travel as JSON strings (``"1500"``,
``"12.35"``) so no client parses money into a float.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import msgspec

from streamgauge.query.dsl import Filter, Strict


class MeterQueryRequest(Strict):
    """The body of ``POST /meters/{name}/query``."""

    start: str = "-30d"
    end: str = "now"
    window: str = "none"  # hour | day | month | none
    timezone: str = "UTC"
    group_by: list[str] | None = None  # default: the meter's group_by
    filters: list[Filter] = msgspec.field(default_factory=list)
    organization_id: str | None = None


class MeterPoint(msgspec.Struct):
    """The meter's value for one group in one window ``[start, end)`` (or the whole range)."""

    group: dict[str, str | None]
    value: Decimal
    events: int
    start: datetime | None = None
    end: datetime | None = None


class MeterQueryResponse(msgspec.Struct):
    meter: str
    aggregation: str
    unit: str | None
    start: datetime
    end: datetime
    window: str
    timezone: str
    group_by: list[str]
    series: list[MeterPoint]
    totals: list[MeterPoint]
    as_of: datetime | None  # the latest event time included
    received_through: datetime | None  # the latest receive time included
    computed_at: datetime


class InvoiceRequest(Strict):
    """``{organizationId, period: "2025-10"}`` or ``{organizationId, start, end}``."""

    organization_id: str | None = None
    period: str | None = None
    start: str | None = None
    end: str | None = None
    timezone: str | None = None  # default: billing.timezone


class TierLine(msgspec.Struct):
    """One tier (or the blocks of a package) of a line: units above ``after`` up to ``up_to``."""

    tier: int
    after: Decimal
    up_to: Decimal | None
    quantity: Decimal
    unit_price: Decimal
    flat_fee: Decimal
    amount: Decimal  # exact


class InvoiceLine(msgspec.Struct):
    meter: str
    sku: str
    unit: str | None
    description: str
    model: str
    quantity: Decimal
    free_quantity: Decimal
    billable_quantity: Decimal
    unit_price: Decimal | None  # per unit, per package, or the volume tier's; None if graduated
    tiers: list[TierLine]
    subtotal: Decimal  # exact, before rounding
    minimum_charge: Decimal
    minimum_applied: bool
    amount: Decimal  # rounded once (billing.decimals, billing.rounding)
    events: int


class UnpricedUsage(msgspec.Struct):
    """Usage of a meter that no price bills (shown, never charged)."""

    meter: str
    sku: str | None
    unit: str | None
    quantity: Decimal
    events: int


class Invoice(msgspec.Struct):
    organization_id: str
    period: str | None
    start: datetime
    end: datetime
    currency: str
    lines: list[InvoiceLine]
    unpriced: list[UnpricedUsage]
    total: Decimal
    rounding: str
    as_of: datetime | None
    received_through: datetime | None
    computed_at: datetime


class InvoicesResponse(msgspec.Struct):
    """``POST /billing/invoices``: every organization's invoice for a period."""

    period: str | None
    start: datetime
    end: datetime
    currency: str
    invoices: list[Invoice]
    total: Decimal
    as_of: datetime | None
    received_through: datetime | None
    computed_at: datetime
