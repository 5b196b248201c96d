"""OTLP/HTTP traces (protobuf and JSON) → request Events, field by field."""

from __future__ import annotations

import json
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from streamgauge.errors import BadRequest
from streamgauge.sources import otlp
from streamgauge.sources.native import InvalidEvent
from tests.sources.helpers import RECEIVED_AT, as_json, options

TRACE = "5b8efff798038103d269b633813fc60c"
SPAN = "eee19b7ec3c1b174"
START_NS = (RECEIVED_AT - 1_000_000) * 1000
OPTIONS = otlp.OtlpOptions(event_name="api.request", organization_attribute="tenant.id")


def attr(key: str, **value: Any) -> dict[str, Any]:
    return {"key": key, "value": value}


def request(*spans: dict[str, Any], resource: list[dict[str, Any]] | None = None) -> bytes:
    resource = resource or [attr("service.name", stringValue="shop")]
    document = {
        "resourceSpans": [
            {
                "resource": {"attributes": resource},
                "scopeSpans": [{"scope": {"name": "s"}, "spans": list(spans)}],
            }
        ]
    }
    return json.dumps(document).encode()


def span(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "traceId": TRACE,
        "spanId": SPAN,
        "parentSpanId": "",
        "name": "GET /orders/{id}",
        "kind": 2,
        "startTimeUnixNano": str(START_NS),
        "endTimeUnixNano": str(START_NS + 12_500_000),
        "attributes": [
            attr("http.request.method", stringValue="GET"),
            attr("http.route", stringValue="/orders/{id}"),
            attr("http.response.status_code", intValue="200"),
            attr("enduser.id", stringValue="u1"),
            attr("session.id", stringValue="s1"),
            attr("tenant.id", stringValue="org-1"),
        ],
        "status": {},
    }
    return {**base, **overrides}


def events(body: bytes, *, json_body: bool = True, header_org: str | None = None) -> list[Any]:
    decoded = otlp.decode_request(body, json=json_body)
    envelopes = otlp.split_request(decoded, OPTIONS, header_org)
    return [otlp.normalize(e, options("otlp")) for e in envelopes]


def test_a_server_span_maps_every_request_column() -> None:
    [event] = events(request(span()))
    assert event.event == "api.request"
    assert event.event_id == f"{TRACE}-{SPAN}"
    assert event.timestamp == RECEIVED_AT - 1_000_000
    assert event.duration_ms == 12.5
    assert (event.method, event.path, event.status_code) == ("GET", "/orders/{id}", 200)
    assert (event.user_id, event.session_id, event.organization_id) == ("u1", "s1", "org-1")
    assert event.error is None and event.source == "otlp"
    assert as_json(event.properties) == {
        "http.request.method": "GET",
        "http.route": "/orders/{id}",
        "http.response.status_code": 200,
        "enduser.id": "u1",
        "session.id": "s1",
        "tenant.id": "org-1",
    }
    assert as_json(event.context) == {
        "service.name": "shop",
        "span_name": "GET /orders/{id}",
        "trace_id": TRACE,
        "span_id": SPAN,
        "resource": {"service.name": "shop"},
    }


def test_protobuf_and_json_give_the_same_event() -> None:
    body = request(span())
    protobuf = otlp.decode_request(body, json=True).SerializeToString()
    assert events(protobuf, json_body=False) == events(body)


def test_older_semantic_convention_names_are_mapped_too() -> None:
    old = [
        attr("http.method", stringValue="POST"),
        attr("http.target", stringValue="/login"),
        attr("http.status_code", stringValue="302"),
    ]
    [event] = events(request(span(attributes=old)))
    assert (event.method, event.path, event.status_code) == ("POST", "/login", 302)


def test_error_status_and_exception_events_become_the_error() -> None:
    exception = {
        "name": "exception",
        "attributes": [
            attr("exception.type", stringValue="ValueError"),
            attr("exception.message", stringValue="bad id"),
        ],
    }
    errored = span(status={"code": 2, "message": "boom"}, events=[exception])
    [with_message] = events(request(errored))
    [from_exception] = events(request(span(status={"code": 2}, events=[exception])))
    [bare] = events(request(span(status={"code": 2})))
    [ok_but_raised] = events(request(span(events=[exception])))
    assert with_message.error == "boom"
    assert from_exception.error == "ValueError: bad id"
    assert bare.error == "error"
    assert ok_but_raised.error == "ValueError: bad id"


def test_the_organization_comes_from_the_resource_then_the_header() -> None:
    no_org = [attr("http.route", stringValue="/")]
    resource = [attr("service.name", stringValue="shop"), attr("tenant.id", stringValue="r-org")]
    [from_resource] = events(request(span(attributes=no_org), resource=resource))
    [from_header] = events(request(span(attributes=no_org)), header_org="h-org")
    assert from_resource.organization_id == "r-org"
    assert from_header.organization_id == "h-org"


def test_only_server_spans_are_requests() -> None:
    spans = [span(kind=k, spanId=f"{k:016x}") for k in (0, 1, 2, 3, 4, 5)]
    assert [e.event_id for e in events(request(*spans))] == [f"{TRACE}-{2:016x}"]


def test_attribute_values_of_every_kind_are_kept() -> None:
    values = [
        attr("b", boolValue=True),
        attr("d", doubleValue=1.5),
        attr("a", arrayValue={"values": [{"intValue": "1"}, {"stringValue": "x"}]}),
        attr("kv", kvlistValue={"values": [attr("k", stringValue="v")]}),
        attr("raw", bytesValue="AAE="),
        {"key": "empty", "value": {}},
    ]
    [event] = events(request(span(attributes=values)))
    assert as_json(event.properties) == {
        "b": True,
        "d": 1.5,
        "a": [1, "x"],
        "kv": {"k": "v"},
        "raw": "AAE=",
        "empty": None,
    }


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"traceId": "0" * 32}, "traceId", "traceId must be 32 hex digits, not all zero"),
        ({"spanId": ""}, "spanId", "spanId must be 16 hex digits, not all zero"),
        ({"endTimeUnixNano": "1"}, "endTimeUnixNano", "a span cannot end before it starts"),
        ({"attributes": [attr("http.status_code", stringValue="OK")]},
         "attributes.http.status_code", "http.status_code must be an integer"),
    ],
)  # fmt: skip
def test_invalid_spans_are_rejected_naming_the_field(
    overrides: dict[str, Any], field: str, message: str
) -> None:
    with pytest.raises(InvalidEvent) as raised:
        events(request(span(**overrides)))
    assert (raised.value.field, raised.value.message) == (field, message)


@pytest.mark.parametrize(
    ("body", "json_body"),
    [(b"{", True), (b"[]", True), (request(span(traceId="zz")), True), (b"\xff\xff", False)],
)
def test_undecodable_bodies_are_bad_requests(body: bytes, json_body: bool) -> None:
    with pytest.raises(BadRequest, match="request body is not a valid OTLP"):
        otlp.decode_request(body, json=json_body)


def test_an_empty_request_has_no_events() -> None:
    assert otlp.split_request(ExportTraceServiceRequest(), OPTIONS, None) == []
