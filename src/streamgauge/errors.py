"""Every exception streamgauge raises on purpose, and its HTTP status.

One JSON error body everywhere: ``{"error": {"code", "message", "details"}}``.
Errors are *terminal* (the request or input is wrong: retrying the same thing
cannot help) or *transient* (overload, a dependency down: retry later).
"""

from __future__ import annotations

from typing import Any


class StreamgaugeError(Exception):
    """Base class: carries an HTTP status, a stable code and details."""

    status: int = 500
    code: str = "internal_error"
    transient: bool = False

    def __init__(
        self,
        message: str,
        *,
        details: Any = None,
        code: str | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status

    def body(self) -> dict[str, Any]:
        """The canonical JSON error body."""
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class BadRequest(StreamgaugeError):
    status = 400
    code = "bad_request"


class ValidationFailed(BadRequest):
    code = "validation_failed"


class Unauthorized(StreamgaugeError):
    status = 401
    code = "unauthorized"


class Forbidden(StreamgaugeError):
    status = 403
    code = "forbidden"


class NotFound(StreamgaugeError):
    status = 404
    code = "not_found"


class PayloadTooLarge(StreamgaugeError):
    status = 413
    code = "payload_too_large"


class UnsupportedMediaType(StreamgaugeError):
    status = 415
    code = "unsupported_media_type"


class QueryTimeout(StreamgaugeError):
    status = 408
    code = "query_timeout"


class RateLimited(StreamgaugeError):
    """A per-project rate limit: retry after ``retry_after`` seconds."""

    status = 429
    code = "rate_limited"
    transient = True

    def __init__(self, message: str, *, retry_after: float, details: Any = None) -> None:
        super().__init__(message, details=details)
        self.retry_after = retry_after


class Overloaded(StreamgaugeError):
    """The pipeline cannot take more right now (sink lag, disk space, log down)."""

    status = 503
    code = "overloaded"
    transient = True

    def __init__(self, message: str, *, retry_after: float = 1.0, details: Any = None) -> None:
        super().__init__(message, details=details)
        self.retry_after = retry_after


class ConfigError(StreamgaugeError):
    """A setting is wrong; the message names the key."""

    code = "config_error"


class StartupRefused(StreamgaugeError):
    """The server will not start in this configuration (e.g. public bind, no keys)."""

    code = "startup_refused"


def retry_after_header(error: StreamgaugeError) -> dict[str, str]:
    """The ``Retry-After`` header for a transient error, else nothing."""
    seconds = getattr(error, "retry_after", None)
    if seconds is None:
        return {}
    return {"Retry-After": str(max(1, round(seconds)))}
