"""Routes and middleware both HTTP apps have: health, readiness, metrics, timing."""

from __future__ import annotations

import time
from collections.abc import Callable

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from streamgauge.http.errors import json_response
from streamgauge.runtime import Runtime


def operational_routes(runtime: Runtime, ready: Callable[[], bool]) -> list[BaseRoute]:
    async def health(request: Request) -> Response:
        return json_response({"status": "ok"})

    async def readiness(request: Request) -> Response:
        if not ready():
            return json_response({"status": "starting"}, 503, {"Retry-After": "1"})
        return json_response({"status": "ready", "log_head": runtime.log.head()})

    async def metrics(request: Request) -> Response:
        runtime.refresh_stats()
        return Response(generate_latest(runtime.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return [
        Route("/health", health, methods=["GET"]),
        Route("/ready", readiness, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
    ]


class TimingMiddleware:
    """Observes each request's latency under its route template."""

    def __init__(self, app: ASGIApp, *, runtime: Runtime, name: str) -> None:
        self.app = app
        self.histogram = runtime.metrics.request_seconds
        self.name = name

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        try:
            await self.app(scope, receive, send)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "<unmatched>"
            self.histogram.labels(self.name, template).observe(time.perf_counter() - start)
