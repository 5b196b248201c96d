"""``POST /archive/flush`` (admin): commit what the archive sink buffers, now.

The CLI's ``streamgauge archive flush`` calls it: the buffer lives in the
server process, so only the server can commit it.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from streamgauge.api.context import ApiContext
from streamgauge.api.openapi import document, operation
from streamgauge.errors import Forbidden, NotFound, Overloaded
from streamgauge.http.auth import authenticate, key_from_headers
from streamgauge.http.errors import json_response
from streamgauge.maintenance import Maintenance
from streamgauge.scope import KeyScope

FLUSH_TIMEOUT_S = 120.0


def register(app: FastAPI, api: ApiContext) -> None:
    runtime = api.runtime

    async def flush(request: Request) -> Response:
        principal = authenticate(runtime.keys, key_from_headers(request))
        if principal.scope is not KeyScope.ADMIN:
            raise Forbidden("flushing the archive needs an admin key")
        maintenance = runtime.maintenance
        if not isinstance(maintenance, Maintenance):
            raise NotFound("this server runs no archive sink (see --role and log.url)")
        runner = maintenance.archive_runner
        done = await run_in_threadpool(runner.request_flush, FLUSH_TIMEOUT_S)
        if not done:
            raise Overloaded(f"the archive did not commit within {FLUSH_TIMEOUT_S:.0f} s")
        return json_response({"committed_offset": runner.sink.committed_offset()})

    app.add_route("/archive/flush", flush, methods=["POST"])
    committed = {
        "type": "object",
        "properties": {"committed_offset": {"type": "integer"}},
        "required": ["committed_offset"],
    }
    summary = "Commit what the archive sink buffers, now (admin key)"
    document(app, {"/archive/flush": {"post": operation(summary, committed)}})
