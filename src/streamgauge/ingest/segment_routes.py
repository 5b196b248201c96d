"""Segment / RudderStack tracking API: ``POST /v1/batch`` and ``/v1/<call>``.

Success is exactly 200 with a JSON body (RudderStack's client retries any
other status), errors are ``{"code", "message"}`` (RudderStack's client
retries forever on an error body without ``code``). The write key comes as
HTTP Basic user, or as ``writeKey`` in the body. A body carrying ``writeKey``
is from a Segment library and held to Segment's batch limit; RudderStack's
libraries batch up to their own, larger limit.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from streamgauge.errors import PayloadTooLarge, StreamgaugeError
from streamgauge.http.errors import json_response
from streamgauge.ingest.ingestor import IngestResult
from streamgauge.ingest.source_routes import Handler, SourceGate, speaking
from streamgauge.sources import segment


def render_error(request: Request, error: StreamgaugeError) -> Response:
    return json_response({"code": error.code, "message": error.message}, error.status)


def respond(result: IngestResult) -> Response:
    body = result.as_json()
    if result.rejected and not (result.accepted or result.duplicates):
        message = f"all {result.rejected} events were invalid; they are in the dead-letter store"
        return json_response({"code": "invalid_events", "message": message, **body}, 400)
    return json_response({"success": True, **body}, 200)


def segment_routes(gate: SourceGate) -> list[BaseRoute]:
    sources = gate.settings.sources
    options = segment.SegmentOptions(
        group_as_organization=sources.segment_group_as_organization,
        max_event_bytes=sources.segment_max_event_bytes,
    )
    read_limit = max(sources.segment_max_batch_bytes, sources.rudderstack_max_batch_bytes)

    def handler(call: str | None) -> Handler:
        async def endpoint(request: Request) -> Response:
            principal = gate.from_headers(request)
            body = await gate.body(request, read_limit)
            split = segment.split_request(body, call, options)
            if split.write_key is not None and len(body) > sources.segment_max_batch_bytes:
                raise PayloadTooLarge(
                    f"request body is {len(body)} bytes; Segment's limit is "
                    f"{sources.segment_max_batch_bytes} bytes per batch"
                )
            if principal is None:
                principal = gate.admit(split.write_key)
            return respond(
                await gate.ingest(principal, split.envelopes, segment.SOURCE, segment.normalize)
            )

        return speaking(render_error, endpoint)

    routes: list[BaseRoute] = [Route("/v1/batch", handler(None), methods=["POST"])]
    routes += [Route(f"/v1/{call}", handler(call), methods=["POST"]) for call in segment.CALL_TYPES]
    return routes
