"""The real OpenTelemetry SDK and OTLP/HTTP exporter against a real server."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from google.rpc import status_pb2
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode

from tests.integration.sources_support import FlakyProxy, create_write_key
from tests.support.server import ServerProcess
from tests.support.store import stored_events

COLUMNS = "project_id, event, method, path, status_code, user_id, organization_id, error, source"


def traced(endpoint: str, key: str | None, spans: int, *, error_on: int = -1) -> None:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    exporter = OTLPSpanExporter(endpoint=f"{endpoint}/v1/traces", headers=headers,
                                compression=Compression.Gzip)  # fmt: skip
    provider = TracerProvider(resource=Resource.create({"service.name": "shop"}))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    tracer = provider.get_tracer("tests")
    for i in range(spans):
        attributes = {"http.request.method": "GET", "http.route": "/orders/{id}",
                      "http.response.status_code": 500 if i == error_on else 200,
                      "enduser.id": f"u{i}", "organization.id": "org-1"}  # fmt: skip
        with tracer.start_as_current_span("GET /orders/{id}", kind=SpanKind.SERVER,
                                          attributes=attributes) as span:  # fmt: skip
            with tracer.start_as_current_span("db.query", kind=SpanKind.CLIENT):
                pass
            if i == error_on:
                span.set_status(Status(StatusCode.ERROR, "database down"))
    provider.shutdown()


def test_server_spans_arrive_as_request_events_and_errors_are_otlp(tmp_path: Path) -> None:
    data = tmp_path / "data"
    key = create_write_key(data, "shop")
    with ServerProcess(data) as server:
        traced(server.ingest_url, key, 3, error_on=1)
        url = f"{server.ingest_url}/v1/traces"
        bearer = {"Authorization": f"Bearer {key}"}
        span = {"traceId": "5b8efff798038103d269b633813fc60c", "spanId": "0" * 16, "kind": 2,
                "startTimeUnixNano": "1", "endTimeUnixNano": "2"}  # fmt: skip
        document = {"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]}
        r = httpx.post(url, json=document, headers=bearer)
        assert (r.status_code, r.headers["content-type"]) == (200, "application/json")
        reason = "span 0: spanId: spanId must be 16 hex digits, not all zero"
        assert r.json() == {"partialSuccess": {"rejectedSpans": "1", "errorMessage": reason}}
        protobuf = {**bearer, "Content-Type": "application/x-protobuf"}
        r = httpx.post(url, content=b"\xff\xff", headers=protobuf)
        assert (r.status_code, r.headers["content-type"]) == (400, "application/x-protobuf")
        status = status_pb2.Status.FromString(r.content)
        assert status.code == 3 and status.message.startswith("request body is not a valid OTLP")
        r = httpx.post(url, content=b"", headers={**protobuf, "Authorization": "Bearer nope"})
        assert r.status_code == 401
        assert status_pb2.Status.FromString(r.content).message == "unknown or revoked API key"
        r = httpx.post(url, content=b"x", headers={**bearer, "Content-Type": "text/plain"})
        assert r.status_code == 415 and json.loads(r.content)["code"] == 3
        r = httpx.post(url, content=b"", headers=protobuf)
        assert r.status_code == 200 and ExportTraceServiceResponse.FromString(r.content) == (
            ExportTraceServiceResponse()
        )
    rows = stored_events(data, COLUMNS + ", user_id AS u")
    assert sorted(rows, key=lambda r: r["u"]) == [
        {"project_id": "shop", "event": "api.request", "method": "GET", "path": "/orders/{id}",
         "status_code": status, "user_id": f"u{i}", "organization_id": "org-1", "error": error,
         "source": "otlp", "u": f"u{i}"}
        for i, (status, error) in enumerate([(200, None), (500, "database down"), (200, None)])
    ]  # fmt: skip


def test_a_503_is_retried_and_every_span_is_stored_once(tmp_path: Path) -> None:
    with ServerProcess(tmp_path / "data") as server, FlakyProxy(server.ingest_url) as proxy:
        traced(proxy.url, None, 30)
        assert proxy.requests == 2
    rows = stored_events(tmp_path / "data", "event_id, user_id")
    assert sorted(r["user_id"] for r in rows) == sorted(f"u{i}" for i in range(30))
    assert len({r["event_id"] for r in rows}) == 30
