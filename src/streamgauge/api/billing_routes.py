"""The billing endpoints: meters, meter queries and invoices.

``GET /meters``, ``POST /meters/{name}/query``, ``POST /billing/invoice`` (one
organization) and ``POST /billing/invoices`` (every organization the key may
read). JSON by default; ``?format=csv`` (or ndjson, parquet, arrow) gives the
flat table of ``billing.tables``. The seed's ``POST /billing/usage`` is the
``usage`` template (``query_routes``).
"""

from __future__ import annotations

from typing import Any

import msgspec
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response

from streamgauge.api.context import ApiContext
from streamgauge.api.openapi import document, operation
from streamgauge.billing.answers import Billing
from streamgauge.billing.meters import MeterInfo
from streamgauge.billing.schemas import (
    Invoice,
    InvoiceRequest,
    InvoicesResponse,
    MeterQueryRequest,
    MeterQueryResponse,
)
from streamgauge.billing.tables import invoices_table, meter_table
from streamgauge.http.errors import json_response
from streamgauge.query import QueryResult, pick_format

REF_TEMPLATE = "#/components/schemas/{name}"


def register(app: FastAPI, api: ApiContext) -> None:
    billing = Billing(api.runtime.settings.billing, api.relation_for)

    def reply(request: Request, answer: msgspec.Struct, table: QueryResult) -> Response:
        fmt = pick_format(request.query_params.get("format"), request.headers.get("accept"))
        if fmt == "json":
            return json_response(answer)
        return api.reply(request, table)

    async def meters(request: Request) -> Response:
        api.principal(request)
        return json_response(billing.catalog.infos())

    async def meter_query(request: Request) -> Response:
        principal = api.principal(request)
        name = request.path_params["name"]
        billing.catalog.get(name)
        body = await api.body(request)
        answer = await api.run(lambda cur: billing.query_meter(cur, principal, name, body))
        return reply(request, answer, meter_table(answer))

    async def invoice(request: Request) -> Response:
        principal = api.principal(request)
        body = await api.body(request)
        answer = await api.run(lambda cur: billing.invoice(cur, principal, body))
        return reply(request, answer, invoices_table([answer]))

    async def invoices(request: Request) -> Response:
        principal = api.principal(request)
        body = await api.body(request)
        answer = await api.run(lambda cur: billing.invoices(cur, principal, body, one=False))
        return reply(request, answer, invoices_table(answer.invoices))

    app.add_route("/meters", meters, methods=["GET"])
    app.add_route("/meters/{name}/query", meter_query, methods=["POST"])
    app.add_route("/billing/invoice", invoice, methods=["POST"])
    app.add_route("/billing/invoices", invoices, methods=["POST"])
    document(app, **openapi_paths())


def openapi_paths() -> dict[str, Any]:
    """``{"paths", "components"}`` of the billing endpoints for the OpenAPI document."""
    shapes: list[Any] = [
        list[MeterInfo], MeterQueryRequest, MeterQueryResponse, InvoiceRequest, Invoice,
        InvoicesResponse,
    ]  # fmt: skip
    refs, components = msgspec.json.schema_components(shapes, ref_template=REF_TEMPLATE)

    paths = {
        "/meters": {"get": operation("List the meters", refs[0])},
        "/meters/{name}/query": {
            "post": {
                **operation("A meter's totals and window series", refs[2], refs[1]),
                "parameters": [
                    {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
            }
        },
        "/billing/invoice": {
            "post": operation("One organization's invoice for a period", refs[4], refs[3])
        },
        "/billing/invoices": {
            "post": operation("Every organization's invoice for a period", refs[5], refs[3])
        },
    }
    return {"paths": paths, "components": components}
