"""The native wire shape (the seed's): decoding and normalization to Events.

A batch is decoded in two steps so one bad event never sinks its neighbours:
the body is split into raw JSON values (``msgspec.Raw``: no Python objects),
then each value is decoded into a typed struct and normalized. Every failure
becomes a :class:`Rejection` with the event's index, the field and a message.
``properties`` and ``context`` stay raw JSON bytes end to end.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

import msgspec
import uuid_utils

from streamgauge.errors import BadRequest
from streamgauge.model import Event

MAX_ID_LENGTH = 256
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MAX_EPOCH_MS = 253_402_300_800_000  # 10000-01-01: beyond it the value cannot be a time


class Performance(msgspec.Struct):
    duration: float | None = None
    statusCode: int | None = None
    error: str | None = None


class Usage(msgspec.Struct):
    quantity: float | None = None
    unit: str | None = None
    sku: str | None = None


class RequestProperties(msgspec.Struct):
    """The properties promoted to columns; everything else stays in the JSON."""

    method: object = None
    route: object = None
    path: object = None


class NativeEvent(msgspec.Struct):
    """The seed's event shape, as apps send it."""

    event: str
    id: str | None = None
    eventId: str | None = None
    messageId: str | None = None
    timestamp: datetime | int | float | None = None
    userId: str | None = None
    anonymousId: str | None = None
    sessionId: str | None = None
    organizationId: str | None = None
    properties: msgspec.Raw = msgspec.Raw(b"")
    context: msgspec.Raw = msgspec.Raw(b"")
    performance: Performance | None = None
    usage: Usage | None = None


class _Envelope(msgspec.Struct):
    events: list[msgspec.Raw]


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why the event at ``index`` of a request was not accepted."""

    index: int
    field: str
    message: str
    raw: bytes

    def as_json(self) -> dict[str, object]:
        return {"index": self.index, "field": self.field, "message": self.message}


class InvalidEvent(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


_event_decoder = msgspec.json.Decoder(NativeEvent)
_props_decoder = msgspec.json.Decoder(RequestProperties)
_raw_list_decoder = msgspec.json.Decoder(list[msgspec.Raw])
_envelope_decoder = msgspec.json.Decoder(_Envelope)
_object_decoder = msgspec.json.Decoder(dict[str, msgspec.Raw])


def split_batch(body: bytes, *, ndjson: bool) -> list[bytes]:
    """The raw JSON values of a batch body: array, ``{"events": [...]}`` or NDJSON."""
    if ndjson:
        return [line for line in body.splitlines() if line.strip()]
    start = body.lstrip()[:1]
    try:
        if start == b"[":
            return [bytes(raw) for raw in _raw_list_decoder.decode(body)]
        if start == b"{":
            return [bytes(raw) for raw in _envelope_decoder.decode(body).events]
    except msgspec.DecodeError as error:
        raise BadRequest(
            f"request body is not valid JSON: {error}",
            code="malformed_json",
            details={"hint": 'send a JSON array of events, {"events": [...]}, or NDJSON '
                     "with Content-Type: application/x-ndjson"},
        ) from None  # fmt: skip
    raise BadRequest(
        'a batch must be a JSON array of events, {"events": [...]}, or NDJSON '
        "(Content-Type: application/x-ndjson)",
        code="malformed_batch",
    )


def check_single(body: bytes) -> bytes:
    """The body of ``POST /events``: exactly one JSON object."""
    try:
        _object_decoder.decode(body)
    except msgspec.DecodeError as error:
        raise BadRequest(
            f"request body must be one JSON event object: {error}", code="malformed_json"
        ) from None
    return body


@dataclass(frozen=True, slots=True)
class NormalizeOptions:
    project_id: str
    received_at: int  # µs since the epoch
    max_future_us: int
    max_name_length: int
    max_event_bytes: int
    source: str = "native"


def normalize(raw: bytes, options: NormalizeOptions) -> Event:
    """One raw native event → a canonical Event, or :class:`InvalidEvent`."""
    if len(raw) > options.max_event_bytes:
        raise InvalidEvent(
            "", f"event is {len(raw)} bytes; the limit is {options.max_event_bytes} bytes"
        )
    try:
        native = _event_decoder.decode(raw)
    except msgspec.ValidationError as error:
        raise _invalid(error) from None
    except msgspec.DecodeError as error:
        raise InvalidEvent("", f"not valid JSON: {error}") from None
    return build_event(native, options)


def build_event(native: NativeEvent, options: NormalizeOptions) -> Event:
    name = native.event
    if not name or len(name) > options.max_name_length:
        raise InvalidEvent("event", f"event name must be 1 to {options.max_name_length} characters")
    event_id = native.id or native.eventId or native.messageId
    if event_id is None:
        event_id = str(uuid_utils.uuid7())
    elif len(event_id) > MAX_ID_LENGTH:
        raise InvalidEvent("id", f"event id must be at most {MAX_ID_LENGTH} characters")
    timestamp = _timestamp_us(native.timestamp, options.received_at)
    if timestamp > options.received_at + options.max_future_us:
        raise InvalidEvent(
            "timestamp",
            f"timestamp is more than {options.max_future_us // 1_000_000} s in the future; "
            "send ISO-8601 with an offset or epoch milliseconds",
        )
    method = path = None
    properties = _raw_json(native.properties, "properties")
    if properties is not None:
        promoted = _props_decoder.decode(properties)
        method = _text(promoted.method)
        path = _text(promoted.route) or _text(promoted.path)
    performance = native.performance or _NO_PERFORMANCE
    usage = native.usage or _NO_USAGE
    return Event(
        project_id=options.project_id,
        event_id=event_id,
        event=name,
        timestamp=timestamp,
        received_at=options.received_at,
        user_id=native.userId,
        anonymous_id=native.anonymousId,
        session_id=native.sessionId,
        organization_id=native.organizationId,
        duration_ms=_finite(performance.duration, "performance.duration"),
        status_code=_status(performance.statusCode),
        error=performance.error,
        usage_quantity=_finite(usage.quantity, "usage.quantity"),
        usage_unit=usage.unit,
        usage_sku=usage.sku,
        method=method,
        path=path,
        source=options.source,
        properties=properties.decode() if properties is not None else None,
        context=_decoded(_raw_json(native.context, "context")),
    )


_NO_PERFORMANCE = Performance()
_NO_USAGE = Usage()


def _timestamp_us(value: datetime | int | float | None, received_at: int) -> int:
    if value is None:
        return received_at
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)  # no offset: taken as UTC
        delta = value - _EPOCH
        return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    if not 0 <= value < _MAX_EPOCH_MS:
        raise InvalidEvent(
            "timestamp", "epoch timestamps are milliseconds since 1970-01-01T00:00:00Z"
        )
    return int(value * 1000)


def _raw_json(raw: msgspec.Raw, field: str) -> bytes | None:
    data = bytes(raw)
    if not data or data == b"null":
        return None
    if data.lstrip()[:1] != b"{":
        raise InvalidEvent(field, f"{field} must be a JSON object")
    return data


def _decoded(data: bytes | None) -> str | None:
    return data.decode() if data is not None else None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _finite(value: float | None, field: str) -> float | None:
    if value is not None and not math.isfinite(value):
        raise InvalidEvent(field, f"{field} must be a finite number")
    return value


def _status(value: int | None) -> int | None:
    if value is not None and not 100 <= value <= 999:
        raise InvalidEvent("performance.statusCode", "statusCode must be an HTTP status (100-999)")
    return value


def _invalid(error: msgspec.ValidationError) -> InvalidEvent:
    text = str(error)
    message, sep, where = text.rpartition(" - at `$")
    if not sep:
        message, where = text, ""
    field = where.rstrip("`").lstrip(".")
    if message.startswith("Object missing required field `"):
        field = message.split("`")[1]
        message = f"`{field}` is required"
    return InvalidEvent(field, message)
