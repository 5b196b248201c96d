"""PostHog capture: v0 (``/batch/``, ``/capture/``, ``/e/``, ``/i/v0/e/``, ``/track/``) and v1.

v0 takes the project key as ``api_key`` (or ``token``) in the body, gzip as
``Content-Encoding`` or posthog-js's ``?compression=gzip-js``; success is
exactly 200. v1 (``/i/v1/analytics/events``) takes a Bearer key; success is
2xx with ``{"results": {uuid: {"result": "drop", "details": ...}}}`` listing
only the events not accepted (an empty map: all accepted). Errors are
PostHog's ``{"type", "code", "detail"}``; the client retries 408, 429 and 5xx,
honouring ``Retry-After``.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from streamgauge.errors import StreamgaugeError
from streamgauge.http.errors import json_response
from streamgauge.ingest.body import decompress
from streamgauge.ingest.ingestor import IngestResult
from streamgauge.ingest.source_routes import SourceGate, speaking
from streamgauge.sources import posthog

V0_PATHS = ("/batch", "/capture", "/e", "/i/v0/e", "/track")
V1_PATH = "/i/v1/analytics/events"
_GZIP_MAGIC = b"\x1f\x8b"


def render_error(request: Request, error: StreamgaugeError) -> Response:
    if error.status in (401, 403):
        kind = "authentication_error"
    elif error.status == 429:
        kind = "throttled_error"
    elif error.status >= 500:
        kind = "server_error"
    else:
        kind = "validation_error"
    body = {"type": kind, "code": error.code, "detail": error.message, "attr": None}
    return json_response(body, error.status)


def respond_v0(result: IngestResult) -> Response:
    if result.rejected and not (result.accepted or result.duplicates):
        detail = f"all {result.rejected} events were invalid; they are in the dead-letter store"
        body = {"type": "validation_error", "code": "invalid_events", "detail": detail}
        return json_response({**body, "attr": None, "errors": result.as_json()["errors"]}, 400)
    return json_response({"status": 1, **result.as_json()}, 200)


def respond_v1(result: IngestResult, envelopes: list[bytes]) -> Response:
    results: dict[str, dict[str, str]] = {}
    for rejection in result.rejections:
        uuid = posthog.uuid_of(envelopes[rejection.index])
        if uuid is not None:
            where = f"{rejection.field}: " if rejection.field else ""
            results[uuid] = {"result": "drop", "details": where + rejection.message}
    return json_response({"results": results}, 200)


def posthog_routes(gate: SourceGate) -> list[BaseRoute]:
    sources = gate.settings.sources
    limit = gate.settings.ingest.max_body_bytes
    options_v0 = posthog.PostHogOptions(
        organization_group_type=sources.posthog_organization_group_type,
        max_event_bytes=sources.posthog_max_event_bytes,
    )
    options_v1 = posthog.PostHogOptions(
        organization_group_type=options_v0.organization_group_type,
        max_event_bytes=options_v0.max_event_bytes,
        v1=True,
    )

    async def capture_v0(request: Request) -> Response:
        principal = gate.from_headers(request)
        body = await gate.body(request)
        gzip_js = request.query_params.get("compression", "").startswith("gzip")
        if gzip_js and body[:2] == _GZIP_MAGIC:
            body = decompress(body, "gzip", limit)
        split = posthog.split_request(body, options_v0)
        if principal is None:
            principal = gate.admit(split.api_key)
        return respond_v0(
            await gate.ingest(principal, split.envelopes, posthog.SOURCE, posthog.normalize)
        )

    async def capture_v1(request: Request) -> Response:
        principal = gate.from_headers(request) or gate.admit(None)
        split = posthog.split_request(await gate.body(request), options_v1)
        result = await gate.ingest(principal, split.envelopes, posthog.SOURCE, posthog.normalize)
        return respond_v1(result, split.envelopes)

    v0 = speaking(render_error, capture_v0)
    routes: list[BaseRoute] = [Route(V1_PATH, speaking(render_error, capture_v1), methods=["POST"])]
    for path in V0_PATHS:
        routes += [Route(path, v0, methods=["POST"]), Route(f"{path}/", v0, methods=["POST"])]
    return routes
