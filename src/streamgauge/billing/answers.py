"""The billing endpoints' answers: decode a body, respect the caller's organization, compute.

Shared by the HTTP routes and the CLI's direct mode. An organization-scoped
key reads only its own organization: naming another one is a 403, and every
statement also carries the mandatory organization filter (``scoped_events``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Final

import duckdb

from streamgauge.config import BillingSettings
from streamgauge.errors import Forbidden, ValidationFailed
from streamgauge.query.dsl import Filter, decode
from streamgauge.query.fields import parse_field
from streamgauge.query.source import QueryContext, RelationFor, hot_relation
from streamgauge.query.timerange import make_range, step_back
from streamgauge.scope import Principal

from .amounts import round_amount
from .invoices import build_invoices
from .metering import MeterRow, aggregate_meter
from .meters import MeterCatalog
from .periods import resolve_period
from .schemas import (
    Invoice,
    InvoiceRequest,
    InvoicesResponse,
    MeterPoint,
    MeterQueryRequest,
    MeterQueryResponse,
)

WINDOWS: Final = ("hour", "day", "month", "none")


def organization_for(principal: Principal, requested: str | None) -> str | None:
    """The organization a request may read: its own for a scoped key, else the one asked."""
    scoped = principal.organization_id
    if scoped is not None and requested is not None and requested != scoped:
        raise Forbidden(
            f"this key only reads organization {scoped!r}; drop organizationId or use it",
            details={"field": "organizationId"},
        )
    return scoped if scoped is not None else requested


class Billing:
    """Meters, prices and the tier relation of one server (or one CLI run)."""

    def __init__(self, settings: BillingSettings, relation_for: RelationFor = hot_relation):
        self.settings = settings
        self.catalog = MeterCatalog(settings)
        self.relation_for = relation_for

    def _context(self, con: duckdb.DuckDBPyConnection, principal: Principal) -> QueryContext:
        return QueryContext(con, principal, self.relation_for)

    def query_meter(
        self, con: duckdb.DuckDBPyConnection, principal: Principal, name: str, body: Any
    ) -> MeterQueryResponse:
        meter = self.catalog.get(name)
        request = decode(body, MeterQueryRequest)
        if request.window not in WINDOWS:
            raise ValidationFailed(
                f"window: {request.window!r} is not a window; use one of {', '.join(WINDOWS)}",
                details={"field": "window"},
            )
        ctx = self._context(con, principal)
        rng = make_range(request.start, request.end, request.window, request.timezone, ctx.now)
        names = request.group_by if request.group_by is not None else meter.config.group_by
        fields = [parse_field(n, f"groupBy[{i}]") for i, n in enumerate(names)]
        organization = organization_for(principal, request.organization_id)
        filters = list(request.filters)
        if organization is not None:
            filters.append(Filter("organization_id", "eq", organization))
        totals = aggregate_meter(ctx, meter, rng, group_by=fields, filters=filters)

        def point(row: MeterRow) -> MeterPoint:
            if row.time is None:
                return MeterPoint(row.group, row.value, row.events, rng.start, rng.end)
            end = min(step_back(row.time, -1, rng.granularity, rng.tz), rng.end)
            return MeterPoint(row.group, row.value, row.events, max(row.time, rng.start), end)

        return MeterQueryResponse(
            meter.name, meter.aggregation, meter.config.unit, rng.start, rng.end,
            request.window, request.timezone, [f.name for f in fields],
            [point(r) for r in totals.series], [point(r) for r in totals.totals],
            totals.as_of, totals.received_through, ctx.now,
        )  # fmt: skip

    def invoices(
        self, con: duckdb.DuckDBPyConnection, principal: Principal, body: Any, *, one: bool
    ) -> InvoicesResponse:
        """``POST /billing/invoice`` (``one``: an organization is required) and ``/invoices``."""
        request = decode(body, InvoiceRequest)
        organization = organization_for(principal, request.organization_id)
        if one and organization is None:
            raise ValidationFailed(
                "organizationId: give the organization to invoice "
                "(POST /billing/invoices invoices every organization)",
                details={"field": "organizationId"},
            )
        ctx = self._context(con, principal)
        timezone = request.timezone or self.settings.timezone
        period = resolve_period(request.period, request.start, request.end, timezone, ctx.now)
        found = build_invoices(
            ctx, self.catalog, self.settings, period,
            organization_id=organization, computed_at=ctx.now,
        )  # fmt: skip
        total = sum((i.total for i in found), Decimal(0))
        return InvoicesResponse(
            period.label, period.start, period.end, self.settings.currency, found,
            round_amount(total, self.settings.decimals, self.settings.rounding),
            _latest([i.as_of for i in found]), _latest([i.received_through for i in found]),
            ctx.now,
        )  # fmt: skip

    def invoice(self, con: duckdb.DuckDBPyConnection, principal: Principal, body: Any) -> Invoice:
        return self.invoices(con, principal, body, one=True).invoices[0]


def _latest(values: list[datetime | None]) -> datetime | None:
    present = [v for v in values if v is not None]
    return max(present).astimezone(UTC) if present else None
