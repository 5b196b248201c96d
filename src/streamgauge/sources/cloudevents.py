"""CloudEvents 1.0 in structured JSON mode, as OpenMeter ingests them → Events.

``type`` names the event, ``source`` and ``id`` together are its identity
(the event id is ``"<source> <id>"``: a URI-reference holds no space, so
distinct pairs never collide), ``subject`` is the organization (configurable),
``time`` the timestamp and ``data`` the properties. A configured number in
``data`` (with its unit and SKU) becomes the usage columns, so OpenMeter-style
metering works unchanged. The other attributes (``source``, ``specversion``,
extensions) are kept in the context.
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from streamgauge.errors import BadRequest
from streamgauge.model import Event
from streamgauge.sources.envelope import (
    check_size,
    decode,
    encode,
    envelope_prefix,
    enveloped,
)
from streamgauge.sources.native import (
    InvalidEvent,
    NativeEvent,
    NormalizeOptions,
    Usage,
    build_event,
)

SOURCE = "cloudevents"
SPEC_VERSION = "1.0"
_IDENTITY = ("id", "type", "time", "subject", "data", "data_base64")


class CloudEventsOptions(msgspec.Struct, frozen=True):
    subject_as_organization: bool = True
    usage_quantity: str = "value"
    usage_unit: str = "unit"
    usage_sku: str = ""
    max_event_bytes: int = 256 * 1024


class _Envelope(msgspec.Struct):
    message: msgspec.Raw
    options: CloudEventsOptions = CloudEventsOptions()


class _CloudEvent(msgspec.Struct):
    id: str
    source: str
    specversion: str
    type: str
    time: datetime | None = None
    subject: str | None = None
    data: msgspec.Raw = msgspec.Raw(b"")
    data_base64: str | None = None


_envelope_decoder = msgspec.json.Decoder(_Envelope)
_event_decoder = msgspec.json.Decoder(_CloudEvent)
_attributes_decoder = msgspec.json.Decoder(dict[str, msgspec.Raw])
_list_decoder = msgspec.json.Decoder(list[msgspec.Raw])
_data_decoder = msgspec.json.Decoder(object)


def split_request(body: bytes, *, batch: bool | None, options: CloudEventsOptions) -> list[bytes]:
    """One event (``batch`` False), an array (True) or either (None) → envelopes."""
    is_array = body.lstrip()[:1] == b"["
    if batch is not None and is_array != batch:
        shape = "a JSON array of events" if batch else "one JSON event object"
        raise BadRequest(f"this content type carries {shape}", code="malformed_batch")
    try:
        events = _list_decoder.decode(body) if is_array else [_object(body)]
    except msgspec.DecodeError as error:
        raise BadRequest(
            f"request body is not valid JSON: {error}", code="malformed_json"
        ) from None
    prefix = envelope_prefix({"options": encode(options)})
    return [enveloped(prefix, raw) for raw in events]


def _object(body: bytes) -> msgspec.Raw:
    _attributes_decoder.decode(body)
    return msgspec.Raw(body)


def normalize(raw: bytes, options: NormalizeOptions) -> Event:
    """One envelope → a canonical Event, or :class:`InvalidEvent`."""
    envelope = decode(_envelope_decoder, raw)
    mapping = envelope.options
    check_size(envelope.message, mapping.max_event_bytes)
    event = decode(_event_decoder, envelope.message)
    if event.specversion != SPEC_VERSION:
        raise InvalidEvent("specversion", f"specversion must be {SPEC_VERSION!r}")
    for field, value in (("id", event.id), ("source", event.source), ("type", event.type)):
        if not value:
            raise InvalidEvent(field, f"`{field}` must not be empty")
    if any(c.isspace() for c in event.source):
        raise InvalidEvent("source", "source must be a URI-reference (no spaces)")
    data = _data(event)
    attributes = decode(_attributes_decoder, envelope.message)
    native = NativeEvent(
        event=event.type,
        id=f"{event.source} {event.id}",
        timestamp=event.time,
        organizationId=event.subject if mapping.subject_as_organization else None,
        properties=msgspec.Raw(encode(data)) if data is not None else msgspec.Raw(b""),
        context=msgspec.Raw(encode({k: v for k, v in attributes.items() if k not in _IDENTITY})),
        usage=_usage(data, event.type, mapping),
    )
    return build_event(native, options)


def _data(event: _CloudEvent) -> dict[str, object] | None:
    if event.data_base64 is not None:
        return {"data_base64": event.data_base64}
    if not event.data or bytes(event.data) == b"null":
        return None
    value = _data_decoder.decode(event.data)
    return value if isinstance(value, dict) else {"data": value}


def _usage(data: dict[str, object] | None, event_type: str, mapping: CloudEventsOptions) -> Usage:
    value = _at(data, mapping.usage_quantity)
    if value is None:
        return Usage()
    unit = _at(data, mapping.usage_unit)
    sku = _at(data, mapping.usage_sku) if mapping.usage_sku else event_type
    return Usage(
        quantity=_number(value, mapping.usage_quantity),
        unit=str(unit) if unit is not None else None,
        sku=str(sku) if sku is not None else None,
    )


def _at(data: dict[str, object] | None, path: str) -> object:
    """The value at a dotted path (``$.`` allowed, as in OpenMeter's valueProperty)."""
    if data is None or not path:
        return None
    value: object = data
    for part in path.removeprefix("$.").split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _number(value: object, path: str) -> float:
    # OpenMeter accepts numbers sent as strings ("123.5"); so do we.
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise InvalidEvent(f"data.{path}", f"data.{path} must be a number")
    try:
        return float(value)
    except ValueError:
        raise InvalidEvent(f"data.{path}", f"data.{path} must be a number") from None
