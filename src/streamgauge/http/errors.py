"""The one mapping from exceptions to HTTP responses, for every app.

Every error leaves as ``{"error": {"code", "message", "details"}}``; transient
ones carry ``Retry-After``. Anything unexpected is logged and answered 500
with no internals leaked.
"""

from __future__ import annotations

import logging
from typing import Any

import msgspec
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from streamgauge.errors import StreamgaugeError, retry_after_header

logger = logging.getLogger("streamgauge.http")

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
}


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        msgspec.json.encode(body),
        status_code=status,
        headers=headers,
        media_type="application/json",
    )


def error_response(error: StreamgaugeError) -> Response:
    return json_response(error.body(), error.status, retry_after_header(error))


async def handle_streamgauge_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StreamgaugeError)
    return error_response(exc)


async def handle_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    if exc.status_code == 404:
        message = f"no endpoint at {request.method} {request.url.path}"
    elif exc.status_code == 405:
        message = f"{request.method} is not allowed on {request.url.path}"
    error = StreamgaugeError(message, code=code, status=exc.status_code)
    return json_response(error.body(), exc.status_code, dict(exc.headers or {}))


async def handle_unexpected(request: Request, exc: Exception) -> Response:
    logger.exception("unhandled error on %s %s", request.method, request.url.path)
    error = StreamgaugeError("internal error; the server log has the details")
    return error_response(error)


EXCEPTION_HANDLERS: dict[Any, Any] = {
    StreamgaugeError: handle_streamgauge_error,
    HTTPException: handle_http_exception,
    Exception: handle_unexpected,
}
