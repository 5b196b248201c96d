"""The query HTTP app (port 8788).

FastAPI for its OpenAPI document; request bodies are validated by the query
modules (msgspec), so every error leaves in the one JSON error shape.
Queries run on worker threads with their own DuckDB cursor, never on the
event loop.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec
from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request

from streamgauge import __version__
from streamgauge.errors import BadRequest
from streamgauge.http.auth import authenticate, key_from_headers, require_query
from streamgauge.http.common import TimingMiddleware, operational_routes
from streamgauge.http.errors import EXCEPTION_HANDLERS, json_response
from streamgauge.runtime import Runtime
from streamgauge.scope import Principal


def create_query_app(runtime: Runtime, ready: Callable[[], bool]) -> FastAPI:
    app = FastAPI(
        title="streamgauge query API",
        version=__version__,
        exception_handlers=EXCEPTION_HANDLERS,
        middleware=[Middleware(TimingMiddleware, runtime=runtime, name="query")],
        routes=operational_routes(runtime, ready),
    )

    def principal_of(request: Request) -> Principal:
        return require_query(authenticate(runtime.keys, key_from_headers(request)))

    async def json_body(request: Request) -> dict[str, Any]:
        data = await request.body()
        try:
            body = msgspec.json.decode(data) if data.strip() else {}
        except msgspec.DecodeError as error:
            raise BadRequest(
                f"request body is not valid JSON: {error}", code="malformed_json"
            ) from None
        if not isinstance(body, dict):
            raise BadRequest("request body must be a JSON object")
        return body

    from streamgauge.api.routes import register_query_routes

    register_query_routes(app, runtime, principal_of, json_body, run_in_threadpool)
    app.state.json_response = json_response
    return app
