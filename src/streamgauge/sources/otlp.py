"""OpenTelemetry OTLP/HTTP traces (protobuf or JSON) → one request Event per SERVER span.

The HTTP semantic conventions become the request columns, current names
first and the older ones after (``http.request.method`` / ``http.method``,
``http.route`` / ``http.target`` / ``url.path``, ``http.response.status_code``
/ ``http.status_code``); end − start is the duration, an ERROR status or an
``exception`` span event the error, ``enduser.id`` the user, ``session.id``
the session, trace id + span id the event id. Span attributes become the
properties; the resource (``service.name`` first) goes to the context. Other
span kinds (internal, client, producer, consumer) are not requests: skipped.
"""

from __future__ import annotations

import base64
from typing import Any

import msgspec
from google.protobuf import json_format
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from streamgauge.errors import BadRequest
from streamgauge.model import Event
from streamgauge.sources.envelope import decode, encode, envelope_prefix, enveloped, from_micros
from streamgauge.sources.native import (
    InvalidEvent,
    NativeEvent,
    NormalizeOptions,
    Performance,
    build_event,
)

SOURCE = "otlp"
_ID_FIELDS = ("traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id")
_METHOD = ("http.request.method", "http.method")
_PATH = ("http.route", "http.target", "url.path")
_STATUS = ("http.response.status_code", "http.status_code")
_USER = ("enduser.id", "user.id")


class OtlpOptions(msgspec.Struct, frozen=True):
    event_name: str = "api.request"
    organization_attribute: str = "organization.id"


class _Status(msgspec.Struct, frozen=True):
    code: int = 0
    message: str = ""


class _SpanEvent(msgspec.Struct):
    name: str = ""
    attributes: dict[str, Any] = {}


class _Span(msgspec.Struct):
    traceId: str
    spanId: str
    startTimeUnixNano: int
    endTimeUnixNano: int
    parentSpanId: str = ""
    name: str = ""
    kind: int = 0
    attributes: dict[str, Any] = {}
    status: _Status = _Status()
    events: list[_SpanEvent] = []


class _Envelope(msgspec.Struct):
    message: _Span
    options: OtlpOptions = OtlpOptions()
    resource: dict[str, Any] = {}
    organization: str | None = None  # from the configured request header


_envelope_decoder = msgspec.json.Decoder(_Envelope)


def decode_request(body: bytes, *, json: bool) -> ExportTraceServiceRequest:
    """The body as an ``ExportTraceServiceRequest``, or 400: nothing in it can be read."""
    request = ExportTraceServiceRequest()
    try:
        if json:
            json_format.ParseDict(
                _ids_to_base64(msgspec.json.decode(body)), request, ignore_unknown_fields=True
            )
        else:
            request.ParseFromString(body)
    except (DecodeError, json_format.ParseError, msgspec.DecodeError, ValueError) as error:
        kind = "OTLP JSON" if json else "OTLP protobuf"
        raise BadRequest(
            f"request body is not a valid {kind} ExportTraceServiceRequest: {error}"
        ) from None
    return request


def split_request(
    request: ExportTraceServiceRequest, options: OtlpOptions, organization: str | None
) -> list[bytes]:
    """One envelope per SERVER span, carrying its resource's attributes."""
    envelopes: list[bytes] = []
    fixed = {
        "options": encode(options),
        "organization": encode(organization) if organization else None,
    }
    for resource_spans in request.resource_spans:
        resource = _attributes(resource_spans.resource.attributes)
        prefix = envelope_prefix({**fixed, "resource": encode(resource)})
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                if span.kind == Span.SPAN_KIND_SERVER:
                    envelopes.append(enveloped(prefix, encode(_span_document(span))))
    return envelopes


def normalize(raw: bytes, options: NormalizeOptions) -> Event:
    """One envelope → a canonical Event, or :class:`InvalidEvent`."""
    envelope = decode(_envelope_decoder, raw)
    span, attributes = envelope.message, envelope.message.attributes
    _check_id(span.traceId, 32, "traceId")
    _check_id(span.spanId, 16, "spanId")
    if span.endTimeUnixNano < span.startTimeUnixNano:
        raise InvalidEvent("endTimeUnixNano", "a span cannot end before it starts")
    organization_key = envelope.options.organization_attribute
    organization = _first(attributes, organization_key) or _first(
        envelope.resource, organization_key
    )
    native = NativeEvent(
        event=envelope.options.event_name,
        id=f"{span.traceId}-{span.spanId}",
        timestamp=from_micros(span.startTimeUnixNano // 1000),
        userId=_first(attributes, *_USER),
        sessionId=_first(attributes, "session.id"),
        organizationId=organization or envelope.organization,
        properties=msgspec.Raw(encode(attributes)),
        context=msgspec.Raw(encode(_context(span, envelope.resource))),
        performance=Performance(
            duration=(span.endTimeUnixNano - span.startTimeUnixNano) / 1e6,
            statusCode=_status_code(attributes),
            error=_error(span),
        ),
    )
    event = build_event(native, options)
    return msgspec.structs.replace(
        event, method=_first(attributes, *_METHOD), path=_first(attributes, *_PATH)
    )


def _span_document(span: Span) -> dict[str, object]:
    """A span as OTLP JSON spells it (hex ids), attributes as a plain map."""
    document: dict[str, object] = {
        "traceId": span.trace_id.hex(),
        "spanId": span.span_id.hex(),
        "parentSpanId": span.parent_span_id.hex(),
        "name": span.name,
        "kind": span.kind,
        "startTimeUnixNano": span.start_time_unix_nano,
        "endTimeUnixNano": span.end_time_unix_nano,
        "attributes": _attributes(span.attributes),
        "status": {"code": span.status.code, "message": span.status.message},
    }
    if span.events:
        document["events"] = [
            {"name": e.name, "attributes": _attributes(e.attributes)} for e in span.events
        ]
    return document


def _attributes(pairs: Any) -> dict[str, object]:
    return {pair.key: _value(pair.value) for pair in pairs}


def _value(value: AnyValue) -> object:
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [_value(v) for v in value.array_value.values]
    if kind == "kvlist_value":
        return _attributes(value.kvlist_value.values)
    if kind == "bytes_value":
        return base64.b64encode(value.bytes_value).decode()
    return getattr(value, kind)


def _context(span: _Span, resource: dict[str, Any]) -> dict[str, object]:
    context: dict[str, object] = {"service.name": resource.get("service.name")}
    context.update(span_name=span.name, trace_id=span.traceId, span_id=span.spanId)
    if span.parentSpanId:
        context["parent_span_id"] = span.parentSpanId
    context["resource"] = resource
    return context


def _error(span: _Span) -> str | None:
    exception = next((e.attributes for e in span.events if e.name == "exception"), None)
    described = None
    if exception is not None:
        parts = [
            str(exception[k]) for k in ("exception.type", "exception.message") if exception.get(k)
        ]
        described = ": ".join(parts) or "exception"
    if span.status.code == Status.STATUS_CODE_ERROR:
        return span.status.message or described or "error"
    return described


def _status_code(attributes: dict[str, Any]) -> int | None:
    for name in _STATUS:
        value = attributes.get(name)
        if value is None:
            continue
        try:
            return int(value)
        except (TypeError, ValueError):
            raise InvalidEvent(f"attributes.{name}", f"{name} must be an integer") from None
    return None


def _first(attributes: dict[str, Any], *names: str) -> str | None:
    for name in names:
        value = attributes.get(name) if name else None
        if value is not None and value != "":
            return str(value)
    return None


def _check_id(value: str, length: int, field: str) -> None:
    try:
        valid = len(value) == length and int(value, 16) != 0
    except ValueError:
        valid = False
    if not valid:
        raise InvalidEvent(field, f"{field} must be {length} hex digits, not all zero")


def _ids_to_base64(document: Any) -> Any:
    """OTLP JSON spells ids in hex; protobuf's JSON mapping wants base64."""
    if not isinstance(document, dict):
        raise ValueError("an ExportTraceServiceRequest is a JSON object")
    for resource_spans in _items(document, "resourceSpans", "resource_spans"):
        for scope_spans in _items(resource_spans, "scopeSpans", "scope_spans"):
            for span in _items(scope_spans, "spans"):
                _convert_ids(span)
                for link in _items(span, "links"):
                    _convert_ids(link)
    return document


def _items(parent: Any, *names: str) -> list[Any]:
    if not isinstance(parent, dict):
        raise ValueError("expected a JSON object")
    for name in names:
        value = parent.get(name)
        if isinstance(value, list):
            return value
    return []


def _convert_ids(item: Any) -> None:
    if not isinstance(item, dict):
        raise ValueError("a span is a JSON object")
    for name in _ID_FIELDS:
        value = item.get(name)
        if isinstance(value, str):
            item[name] = base64.b64encode(bytes.fromhex(value)).decode()
