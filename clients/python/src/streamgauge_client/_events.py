"""Building events in the native wire shape; cheap, because the middleware calls it per request."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from streamgauge_client._types import Event, Properties, Timestamp
from streamgauge_client._uuid7 import uuid7

REQUEST_EVENT = "api.request"
USAGE_EVENT = "usage.tracked"


def iso_timestamp(unix_ns: int) -> str:
    """``2025-10-03T12:00:00.123456Z`` (UTC, microseconds) from Unix nanoseconds."""
    seconds, ns = divmod(unix_ns, 1_000_000_000)
    t = time.gmtime(seconds)
    return (
        f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}T"
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}.{ns // 1000:06d}Z"
    )


def wire_timestamp(value: Timestamp) -> str | int | float:
    """An explicit timestamp as the server accepts it: ISO-8601 text or epoch milliseconds."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return value


def build_event(
    event: str,
    *,
    user_id: str | None = None,
    anonymous_id: str | None = None,
    organization_id: str | None = None,
    session_id: str | None = None,
    properties: Properties | None = None,
    timestamp: Timestamp | None = None,
    event_id: str | None = None,
) -> Event:
    """One event; the id and timestamp are taken now unless given, from the same clock reading."""
    now_ns = time.time_ns()
    body: Event = {
        "id": event_id if event_id is not None else uuid7(now_ns),
        "event": event,
        "timestamp": iso_timestamp(now_ns) if timestamp is None else wire_timestamp(timestamp),
    }
    if user_id is not None:
        body["userId"] = user_id
    if anonymous_id is not None:
        body["anonymousId"] = anonymous_id
    if organization_id is not None:
        body["organizationId"] = organization_id
    if session_id is not None:
        body["sessionId"] = session_id
    if properties:
        body["properties"] = dict(properties)
    return body
