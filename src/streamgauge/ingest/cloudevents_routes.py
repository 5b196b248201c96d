"""CloudEvents ingest, OpenMeter-compatible: ``POST /api/v1/events``.

``application/cloudevents+json`` carries one event,
``application/cloudevents-batch+json`` an array, ``application/json``
either. Success is exactly 204 (OpenMeter's clients accept nothing else);
errors are RFC 9457 ``application/problem+json``. When some events of a
batch are invalid the valid ones are stored and the answer is 400 naming the
invalid ones (``errors``): resending the whole batch is safe, since
``(source, id)`` deduplicates.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from streamgauge.errors import StreamgaugeError, UnsupportedMediaType
from streamgauge.ingest.ingestor import IngestResult
from streamgauge.ingest.source_routes import SourceGate, media_type, speaking
from streamgauge.sources import cloudevents

PATH = "/api/v1/events"
PROBLEM_TYPE = "application/problem+json"
BATCH_BY_TYPE: dict[str, bool | None] = {
    "application/cloudevents+json": False,
    "application/cloudevents-batch+json": True,
    "application/json": None,
}


def problem(status: int, detail: str, **extensions: Any) -> Response:
    body = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        **extensions,
    }
    return Response(msgspec.json.encode(body), status_code=status, media_type=PROBLEM_TYPE)


def render_error(request: Request, error: StreamgaugeError) -> Response:
    return problem(error.status, error.message, code=error.code)


def respond(result: IngestResult) -> Response:
    if not result.rejected:
        return Response(status_code=204)
    detail = (
        f"{result.rejected} events are invalid and were not stored (they are in the "
        f"dead-letter store); {result.accepted} were accepted"
    )
    return problem(400, detail, code="invalid_events", **result.as_json())


def cloudevents_routes(gate: SourceGate) -> list[BaseRoute]:
    sources = gate.settings.sources
    options = cloudevents.CloudEventsOptions(
        subject_as_organization=sources.cloudevents_subject_as_organization,
        usage_quantity=sources.cloudevents_usage_quantity,
        usage_unit=sources.cloudevents_usage_unit,
        usage_sku=sources.cloudevents_usage_sku,
        max_event_bytes=gate.settings.ingest.max_event_bytes,
    )

    async def events(request: Request) -> Response:
        kind = media_type(request)
        if kind not in BATCH_BY_TYPE:
            raise UnsupportedMediaType(
                f"Content-Type {kind or '(none)'!r} is not a CloudEvents JSON format; send "
                "application/cloudevents+json, application/cloudevents-batch+json or "
                "application/json"
            )
        principal = gate.from_headers(request) or gate.admit(None)
        envelopes = cloudevents.split_request(
            await gate.body(request), batch=BATCH_BY_TYPE[kind], options=options
        )
        return respond(
            await gate.ingest(principal, envelopes, cloudevents.SOURCE, cloudevents.normalize)
        )

    return [Route(PATH, speaking(render_error, events), methods=["POST"])]
