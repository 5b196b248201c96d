"""The HTTP side every protocol source shares, and the one list of their routes.

Each protocol answers in its own error shape (Segment ``{"code", "message"}``,
PostHog ``{"type", "code", "detail"}``, OTLP ``google.rpc.Status``,
CloudEvents ``application/problem+json``): :func:`speaking` wraps a handler so
the streamgauge errors it raises leave in that shape, ``Retry-After`` kept.
Keys are taken from the headers, else from the body (Segment ``writeKey``,
PostHog ``api_key``) and authenticated the same way; back-pressure is checked
before the body is read whenever the key is in the headers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from streamgauge.errors import PayloadTooLarge, StreamgaugeError, retry_after_header
from streamgauge.http.auth import authenticate, key_from_headers, require_ingest
from streamgauge.ingest.body import read_body
from streamgauge.ingest.ingestor import IngestResult, Normalizer
from streamgauge.runtime import Runtime
from streamgauge.scope import Principal

Handler = Callable[[Request], Awaitable[Response]]
Render = Callable[[Request, StreamgaugeError], Response]


def speaking(render: Render, handler: Handler) -> Handler:
    """``handler`` whose streamgauge errors are answered by ``render``."""

    async def endpoint(request: Request) -> Response:
        try:
            return await handler(request)
        except StreamgaugeError as error:
            response = render(request, error)
            response.headers.update(retry_after_header(error))
            return response

    return endpoint


def media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


class SourceGate:
    """Authentication, limits and the ingest call, as every protocol route needs them."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.settings = runtime.settings

    def from_headers(self, request: Request) -> Principal | None:
        """The principal of the headers' key; None when the key must come from the body."""
        key = key_from_headers(request)
        if key is None and self.runtime.keys.has_keys():
            return None
        return self.admit(key)

    def admit(self, key: str | None) -> Principal:
        principal = require_ingest(authenticate(self.runtime.keys, key))
        self.runtime.backpressure.check()
        return principal

    async def body(self, request: Request, limit: int | None = None) -> bytes:
        return await read_body(request, limit or self.settings.ingest.max_body_bytes)

    async def ingest(
        self, principal: Principal, raws: Sequence[bytes], source: str, normalizer: Normalizer
    ) -> IngestResult:
        limit = self.settings.ingest.max_batch_events
        if len(raws) > limit:
            raise PayloadTooLarge(
                f"batch has {len(raws)} events; the limit is {limit} per request",
                details={"limit_events": limit},
            )
        if not raws:
            return IngestResult()
        self.runtime.backpressure.take(principal.project_id, len(raws))
        return await self.runtime.ingestor.ingest(
            principal, raws, source=source, normalizer=normalizer
        )


def source_routes(runtime: Runtime) -> list[BaseRoute]:
    """Segment/RudderStack, PostHog, OTLP/HTTP traces and CloudEvents on the ingest port."""
    from streamgauge.ingest.cloudevents_routes import cloudevents_routes
    from streamgauge.ingest.otlp_routes import otlp_routes
    from streamgauge.ingest.posthog_routes import posthog_routes
    from streamgauge.ingest.segment_routes import segment_routes

    gate = SourceGate(runtime)
    return [
        *segment_routes(gate),
        *posthog_routes(gate),
        *otlp_routes(gate),
        *cloudevents_routes(gate),
    ]
