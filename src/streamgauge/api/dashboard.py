"""The real-time dashboard on the query port: its page, assets and the few routes only it needs.

The page (``/`` and the seed's ``/dashboard.html``) is plain HTML, CSS and
JavaScript modules served from ``api/static`` in the package, with a vendored
charting library: no build step, no CDN, works offline. Everything it shows
comes from the public query API (``/query``, ``/templates``); the routes here
add what a live page needs besides: who the key belongs to (``/whoami``), the
newest events (``/events/recent``), ingestion health and a server-sent-event
stream of commits (``/live``). Every data route takes the same keys as the
query API and applies the same project and organization scope.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

import msgspec
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import FileResponse, Response, StreamingResponse
from starlette.staticfiles import StaticFiles

from streamgauge.api.context import ApiContext
from streamgauge.api.live import CommitWatcher, ingestion_health, live_stream
from streamgauge.api.openapi import document, operation
from streamgauge.errors import Forbidden
from streamgauge.http.auth import key_from_headers
from streamgauge.http.errors import json_response
from streamgauge.query import QueryResponse
from streamgauge.query.recent import RecentParams, RecentRow, recent_events
from streamgauge.query.schemas import REF_TEMPLATE
from streamgauge.scope import Principal
from streamgauge.sinks.hot import SINK_NAME

STATIC_DIR: Final = Path(__file__).parent / "static"
PAGE: Final = STATIC_DIR / "index.html"
PAGE_HEADERS: Final = {
    # Only our own origin: proves at run time that nothing comes from a CDN.
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "Cache-Control": "no-cache",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


def _sees_health(principal: Principal) -> bool:
    """Server-wide numbers are for the project's team, not an organization's customers."""
    return principal.organization_id is None


def register(app: FastAPI, api: ApiContext) -> None:
    hot = next(r for r in api.runtime.runners if r.sink.name == SINK_NAME)
    watcher = CommitWatcher(hot)

    async def page(request: Request) -> Response:
        return FileResponse(PAGE, media_type="text/html", headers=PAGE_HEADERS)

    async def whoami(request: Request) -> Response:
        key_required = api.runtime.keys.has_keys()
        if key_required and key_from_headers(request) is None:
            # Asking is not failing: the page learns it must prompt for a key.
            return json_response({"authenticated": False, "key_required": True})
        principal = api.principal(request)
        return json_response(
            {
                "authenticated": True,
                "key_required": key_required,
                "project_id": principal.project_id,
                "scope": principal.scope.value,
                "organization_id": principal.organization_id,
                "health": _sees_health(principal),
            }
        )

    async def health(request: Request) -> Response:
        if not _sees_health(api.principal(request)):
            raise Forbidden("an organization-scoped key cannot read server-wide ingestion health")
        return json_response(ingestion_health(api.runtime))

    async def recent(request: Request) -> Response:
        return await api.answer(
            request,
            lambda cur, who, body: recent_events(cur, who, body, relation_for=api.relation_for),
        )

    async def live(request: Request) -> Response:
        principal = api.principal(request)
        stream = live_stream(api.runtime, watcher, health=_sees_health(principal))
        return StreamingResponse(
            stream,
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    app.add_route("/", page, methods=["GET"])
    app.add_route("/dashboard.html", page, methods=["GET"])
    app.add_route("/whoami", whoami, methods=["GET"])
    app.add_route("/ingestion/health", health, methods=["GET"])
    app.add_route("/events/recent", recent, methods=["POST"])
    app.add_route("/live", live, methods=["GET"])
    _document(app)


def _document(app: FastAPI) -> None:
    refs, components = msgspec.json.schema_components(
        [RecentParams, QueryResponse[RecentRow]], ref_template=REF_TEMPLATE
    )
    counters = {k: {"type": "number"} for k in ("accepted", "rejected", "duplicates", "refused")}
    sink = {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "committed": {"type": "integer"},
            "lag_events": {"type": "integer"},
            "lag_seconds": {"type": "number"},
            "failures": {"type": "integer"},
        },
    }
    health = {
        "type": "object",
        "properties": {**counters, "log_head": {"type": "integer"},
                       "sinks": {"type": "array", "items": sink}},
    }  # fmt: skip
    caller = {
        "type": "object",
        "properties": {
            "authenticated": {"type": "boolean"},
            "key_required": {"type": "boolean"},
            "project_id": {"type": "string"},
            "scope": {"type": "string", "enum": ["write", "read", "admin"]},
            "organization_id": {"type": ["string", "null"]},
            "health": {"type": "boolean"},
        },
    }
    html = {"type": "string"}
    events = {"type": "string", "description": "text/event-stream: hello, commit, health"}
    document(
        app,
        {
            "/": {"get": operation("The dashboard", html, media_type="text/html")},
            "/dashboard.html": {"get": operation("The dashboard", html, media_type="text/html")},
            "/whoami": {"get": operation("Who the key belongs to", caller)},
            "/ingestion/health": {"get": operation("Ingestion counters and sink lag", health)},
            "/events/recent": {
                "post": operation("The newest events (live tail)", refs[1], refs[0])
            },
            "/live": {
                "get": operation(
                    "Server-sent commit notices", events, media_type="text/event-stream"
                )
            },
        },
        components,
    )

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
