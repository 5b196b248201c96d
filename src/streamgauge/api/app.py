"""The query HTTP app (port 8788): assembled from route modules.

FastAPI serves the OpenAPI document (``/openapi.json``, ``/docs``); request
bodies are validated by the query modules (msgspec), so every error leaves in
the one JSON error shape. Queries run on worker threads with their own
DuckDB cursor, never on the event loop.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI
from starlette.middleware import Middleware

from streamgauge import __version__
from streamgauge.api import archive_routes, billing_routes, dashboard, query_routes, sql_routes
from streamgauge.api.context import ApiContext
from streamgauge.api.openapi import install_openapi
from streamgauge.http.common import TimingMiddleware, operational_routes
from streamgauge.http.errors import EXCEPTION_HANDLERS
from streamgauge.runtime import Runtime


def create_query_app(runtime: Runtime, ready: Callable[[], bool]) -> FastAPI:
    app = FastAPI(
        title="streamgauge query API",
        version=__version__,
        description="Exact analytics over every acknowledged event: DSL, templates, SQL.",
        exception_handlers=EXCEPTION_HANDLERS,
        middleware=[Middleware(TimingMiddleware, runtime=runtime, name="query")],
        routes=operational_routes(runtime, ready),
    )
    api = ApiContext(runtime)
    query_routes.register(app, api)
    billing_routes.register(app, api)
    sql_routes.register(app, api)
    archive_routes.register(app, api)
    dashboard.register(app, api)
    install_openapi(app)
    return app
