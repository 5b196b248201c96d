"""OTLP/HTTP traces: ``POST /v1/traces``, protobuf or JSON, as the OTLP spec has it.

Success is 200 with an ``ExportTraceServiceResponse`` in the request's content
type: empty when every SERVER span was accepted, ``partial_success`` with the
rejected count and the reasons otherwise. Errors carry a ``google.rpc.Status``
in the request's content type: 400 for a body that cannot be decoded, 415 for
another content type, 429/503 with ``Retry-After`` under back-pressure (the
exporter retries those). The key is ``Authorization: Bearer`` or
``X-API-Key`` (``OTEL_EXPORTER_OTLP_HEADERS``).
"""

from __future__ import annotations

from google.protobuf import json_format
from google.protobuf.message import Message
from google.rpc import code_pb2, status_pb2
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from streamgauge.errors import StreamgaugeError, UnsupportedMediaType
from streamgauge.ingest.ingestor import IngestResult
from streamgauge.ingest.source_routes import SourceGate, media_type, speaking
from streamgauge.sources import otlp

PATH = "/v1/traces"
PROTOBUF_TYPES = ("application/x-protobuf", "application/protobuf")
JSON_TYPE = "application/json"
_REASONS_SHOWN = 5
_GRPC_CODES = {
    400: code_pb2.INVALID_ARGUMENT,
    401: code_pb2.UNAUTHENTICATED,
    403: code_pb2.PERMISSION_DENIED,
    413: code_pb2.RESOURCE_EXHAUSTED,
    415: code_pb2.INVALID_ARGUMENT,
    429: code_pb2.RESOURCE_EXHAUSTED,
    503: code_pb2.UNAVAILABLE,
}


def _is_json(request: Request) -> bool:
    return media_type(request) not in PROTOBUF_TYPES


def encode_message(message: Message, *, json: bool, status: int = 200) -> Response:
    if json:
        text = json_format.MessageToJson(message, indent=None)
        return Response(text, status_code=status, media_type=JSON_TYPE)
    return Response(message.SerializeToString(), status_code=status, media_type=PROTOBUF_TYPES[0])


def render_error(request: Request, error: StreamgaugeError) -> Response:
    code = _GRPC_CODES.get(error.status, code_pb2.INTERNAL)
    status = status_pb2.Status(code=code, message=error.message)
    return encode_message(status, json=_is_json(request), status=error.status)


def export_response(result: IngestResult) -> ExportTraceServiceResponse:
    response = ExportTraceServiceResponse()
    if result.rejected:
        reasons = [
            f"span {r.index}: {r.field + ': ' if r.field else ''}{r.message}"
            for r in result.rejections[:_REASONS_SHOWN]
        ]
        more = result.rejected - len(reasons)
        if more:
            reasons.append(f"and {more} more")
        response.partial_success.rejected_spans = result.rejected
        response.partial_success.error_message = "; ".join(reasons)
    return response


def otlp_routes(gate: SourceGate) -> list[BaseRoute]:
    sources = gate.settings.sources
    options = otlp.OtlpOptions(
        event_name=sources.otlp_event_name,
        organization_attribute=sources.otlp_organization_attribute,
    )
    header = sources.otlp_organization_header

    async def traces(request: Request) -> Response:
        kind = media_type(request)
        if kind not in (*PROTOBUF_TYPES, JSON_TYPE):
            raise UnsupportedMediaType(
                f"Content-Type {kind or '(none)'!r} is not OTLP; send application/x-protobuf "
                "or application/json"
            )
        principal = gate.from_headers(request) or gate.admit(None)
        json = kind == JSON_TYPE
        decoded = otlp.decode_request(await gate.body(request), json=json)
        organization = request.headers.get(header) if header else None
        envelopes = otlp.split_request(decoded, options, organization or None)
        result = await gate.ingest(principal, envelopes, otlp.SOURCE, otlp.normalize)
        return encode_message(export_response(result), json=json)

    return [Route(PATH, speaking(render_error, traces), methods=["POST"])]
