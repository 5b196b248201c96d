"""The ``usage`` template: usage quantity per organization, SKU and unit.

Usage rows are events carrying a ``usage_quantity`` (the seed sends them as
``usage.tracked``). The billing issue builds invoices on these totals.
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from streamgauge.errors import Forbidden

from ..dsl import Filter, NamedMetric, OrderBy, QueryRequest, Strict
from ..engine import execute_request
from ..result import QueryResult
from ..source import QueryContext
from .base import Template, register


class UsageParams(Strict):
    """The seed's body ``{"organizationId", "start", "end"}``; ``groupBy`` adds time buckets."""

    start: str = "-30d"
    end: str = "now"
    timezone: str = "UTC"
    organization_id: str | None = None
    sku: str | None = None
    group_by: str = "none"
    filters: list[Filter] = msgspec.field(default_factory=list)


class UsageRow(msgspec.Struct):
    organization_id: str | None
    usage_sku: str | None
    usage_unit: str | None
    quantity: float
    events: int
    time: datetime | None = None


def usage(ctx: QueryContext, params: UsageParams) -> QueryResult:
    scoped_org = ctx.principal.organization_id
    if params.organization_id and scoped_org and params.organization_id != scoped_org:
        raise Forbidden(
            f"this key only reads organization {scoped_org!r}; drop organizationId or use it",
            details={"field": "organizationId"},
        )
    filters = [*params.filters, Filter("usage_quantity", "exists")]
    if params.organization_id:
        filters.append(Filter("organization_id", "eq", params.organization_id))
    if params.sku:
        filters.append(Filter("usage_sku", "eq", params.sku))
    dimensions = ["organization_id", "usage_sku", "usage_unit"]
    order = [OrderBy(d) for d in dimensions]
    if params.group_by != "none":
        order.insert(0, OrderBy("time"))
    request = QueryRequest(
        params.start,
        params.end,
        params.timezone,
        group_by=params.group_by,
        filters=filters,
        dimensions=dimensions,
        order_by=order,
        metrics=[NamedMetric("sum(usage_quantity)", "quantity"), NamedMetric("count", "events")],
    )
    return execute_request(ctx, request, 0.0)


register(
    Template(
        "usage",
        "Usage quantity by organization, SKU and unit (billing)",
        UsageParams,
        UsageRow,
        usage,
    )
)
