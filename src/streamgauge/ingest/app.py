"""The ingest HTTP app (port 8787): the seed's ``/events`` and ``/events/batch``.

Order of checks per request: authenticate (401/403), back-pressure and rate
limits (503/429, before reading the body), read within limits (413/415),
decode (400), then per-event validation (partial batches) and the durable
append. The response is sent only after the log made the events durable.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from streamgauge.errors import BadRequest, PayloadTooLarge
from streamgauge.http.auth import authenticate, key_from_headers, require_ingest
from streamgauge.http.common import TimingMiddleware, operational_routes
from streamgauge.http.errors import EXCEPTION_HANDLERS, json_response
from streamgauge.ingest.body import read_body
from streamgauge.ingest.ingestor import IngestResult
from streamgauge.ingest.source_routes import source_routes
from streamgauge.runtime import Runtime
from streamgauge.scope import Principal
from streamgauge.sources.native import check_single, split_batch

NDJSON_TYPES = ("application/x-ndjson", "application/ndjson", "application/jsonl")


def create_ingest_app(runtime: Runtime, ready: Callable[[], bool]) -> Starlette:
    limits = runtime.settings.ingest

    def admit(request: Request) -> Principal:
        principal = require_ingest(authenticate(runtime.keys, key_from_headers(request)))
        runtime.backpressure.check()
        return principal

    def respond(result: IngestResult) -> Response:
        status = 400 if result.rejected and not (result.accepted or result.duplicates) else 200
        return json_response(result.as_json(), status)

    async def single(request: Request) -> Response:
        principal = admit(request)
        runtime.backpressure.take(principal.project_id, 1)
        body = check_single(await read_body(request, limits.max_body_bytes))
        return respond(await runtime.ingestor.ingest(principal, [body]))

    async def batch(request: Request) -> Response:
        principal = admit(request)
        body = await read_body(request, limits.max_body_bytes)
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        raws = split_batch(body, ndjson=content_type in NDJSON_TYPES)
        if not raws:
            raise BadRequest("the batch holds no events", code="empty_batch")
        if len(raws) > limits.max_batch_events:
            raise PayloadTooLarge(
                f"batch has {len(raws)} events; the limit is {limits.max_batch_events} per request",
                details={"limit_events": limits.max_batch_events},
            )
        runtime.backpressure.take(principal.project_id, len(raws))
        return respond(await runtime.ingestor.ingest(principal, raws))

    routes = [
        Route("/events", single, methods=["POST"]),
        Route("/events/batch", batch, methods=["POST"]),
        *source_routes(runtime),
        *operational_routes(runtime, ready),
    ]
    return Starlette(
        routes=routes,
        exception_handlers=EXCEPTION_HANDLERS,
        middleware=[Middleware(TimingMiddleware, runtime=runtime, name="ingest")],
    )
