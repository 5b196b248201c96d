"""Issue 8's figures: events/s of each protocol's batch format against the native batch.

The same logical events (a request with method, route, status, duration, user,
organization, session) are encoded in each format and sent to one real server
in the same run, each format with its own ids so none is a duplicate. Also
measured in-process: the split + normalize cost alone, without HTTP or the log.
Run: ``python -m bench.bench_sources [--events N] [--batch B]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span
from tests.support.server import ServerProcess

from bench.common import save
from streamgauge.sources import cloudevents, native, otlp, posthog, segment
from streamgauge.sources.native import NormalizeOptions

START_MS = 1_759_492_800_000
ROUTES = ["/api/users", "/api/orders/{id}", "/api/reports", "/api/search", "/health"]
Encoder = Callable[[list[int], str], tuple[str, bytes, str]]


def iso(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + f".{ms % 1000:03d}Z"


def fields(i: int) -> dict[str, Any]:
    return {
        "user": f"user_{i % 5000}",
        "org": f"org_{i % 50}",
        "session": f"sess_{i % 20000}",
        "method": "GET" if i % 3 else "POST",
        "route": ROUTES[i % 5],
        "status": 500 if i % 50 == 0 else 200,
        "duration": 10.0 + (i % 997) / 7,
        "ms": START_MS + i,
    }


def native_batch(ids: list[int], tag: str) -> tuple[str, bytes, str]:
    events = []
    for i in ids:
        f = fields(i)
        events.append(
            {
                "id": f"{tag}-{i}",
                "event": "api.request",
                "timestamp": f["ms"],
                "userId": f["user"],
                "organizationId": f["org"],
                "sessionId": f["session"],
                "properties": {"method": f["method"], "route": f["route"]},
                "performance": {"duration": f["duration"], "statusCode": f["status"]},
            }
        )
    return "/events/batch", json.dumps(events).encode(), "application/json"


def segment_batch(ids: list[int], tag: str) -> tuple[str, bytes, str]:
    calls = []
    for i in ids:
        f = fields(i)
        calls.append(
            {
                "type": "track",
                "event": "api.request",
                "messageId": f"{tag}-{i}",
                "userId": f["user"],
                "timestamp": iso(f["ms"]),
                "context": {"groupId": f["org"]},
                "properties": {
                    "method": f["method"],
                    "route": f["route"],
                    "statusCode": f["status"],
                    "duration": f["duration"],
                },
            }
        )
    body = {"batch": calls, "sentAt": iso(START_MS), "writeKey": "wk"}
    return "/v1/batch", json.dumps(body).encode(), "application/json"


def posthog_batch(ids: list[int], tag: str) -> tuple[str, bytes, str]:
    captures = []
    for i in ids:
        f = fields(i)
        captures.append(
            {
                "event": "api.request",
                "uuid": f"{tag}-{i}",
                "distinct_id": f["user"],
                "timestamp": iso(f["ms"]),
                "properties": {
                    "$session_id": f["session"],
                    "$groups": {"organization": f["org"]},
                    "method": f["method"],
                    "route": f["route"],
                    "statusCode": f["status"],
                    "duration": f["duration"],
                },
            }
        )
    body = {"api_key": "k", "batch": captures, "sent_at": iso(START_MS)}
    return "/batch/", json.dumps(body).encode(), "application/json"


def _kv(key: str, value: str | int) -> KeyValue:
    if isinstance(value, int):
        return KeyValue(key=key, value=AnyValue(int_value=value))
    return KeyValue(key=key, value=AnyValue(string_value=value))


def otlp_batch(ids: list[int], tag: str) -> tuple[str, bytes, str]:
    spans = []
    for i in ids:
        f = fields(i)
        start = f["ms"] * 1_000_000
        spans.append(
            Span(
                trace_id=(hash(tag) % 2**63 + 1).to_bytes(8, "big") + (i + 1).to_bytes(8, "big"),
                span_id=(i + 1).to_bytes(8, "big"),
                name=f["route"],
                kind=Span.SPAN_KIND_SERVER,
                start_time_unix_nano=start,
                end_time_unix_nano=start + int(f["duration"] * 1e6),
                attributes=[
                    _kv("http.request.method", f["method"]),
                    _kv("http.route", f["route"]),
                    _kv("http.response.status_code", f["status"]),
                    _kv("enduser.id", f["user"]),
                    _kv("session.id", f["session"]),
                    _kv("organization.id", f["org"]),
                ],
            )
        )
    resource = ResourceSpans(scope_spans=[ScopeSpans(spans=spans)])
    resource.resource.attributes.append(_kv("service.name", "bench"))
    body = ExportTraceServiceRequest(resource_spans=[resource]).SerializeToString()
    return "/v1/traces", body, "application/x-protobuf"


def cloudevents_batch(ids: list[int], tag: str) -> tuple[str, bytes, str]:
    events = []
    for i in ids:
        f = fields(i)
        events.append(
            {
                "specversion": "1.0",
                "id": f"{tag}-{i}",
                "source": "bench",
                "type": "api.request",
                "subject": f["org"],
                "time": iso(f["ms"]),
                "data": {
                    "method": f["method"],
                    "route": f["route"],
                    "user": f["user"],
                    "statusCode": f["status"],
                    "value": f["duration"],
                },
            }
        )
    return "/api/v1/events", json.dumps(events).encode(), "application/cloudevents-batch+json"


FORMATS: dict[str, Encoder] = {
    "native": native_batch,
    "segment": segment_batch,
    "posthog": posthog_batch,
    "otlp": otlp_batch,
    "cloudevents": cloudevents_batch,
}
OK = {"native": 200, "segment": 200, "posthog": 200, "otlp": 200, "cloudevents": 204}


def split_and_normalize(name: str, body: bytes) -> int:
    opts = NormalizeOptions("p", START_MS * 1000, 3_600_000_000, 256, 256 * 1024, name)
    if name == "native":
        raws, normalize = native.split_batch(body, ndjson=False), native.normalize
    elif name == "segment":
        raws, normalize = (
            segment.split_request(body, None, segment.SegmentOptions()).envelopes,
            segment.normalize,
        )
    elif name == "posthog":
        raws, normalize = (
            posthog.split_request(body, posthog.PostHogOptions()).envelopes,
            posthog.normalize,
        )
    elif name == "otlp":
        decoded = otlp.decode_request(body, json=False)
        raws, normalize = otlp.split_request(decoded, otlp.OtlpOptions(), None), otlp.normalize
    else:
        options = cloudevents.CloudEventsOptions()
        raws = cloudevents.split_request(body, batch=True, options=options)
        normalize = cloudevents.normalize
    return len([normalize(raw, opts) for raw in raws])


async def send(
    url: str, requests: list[tuple[str, bytes, str]], ok: int, concurrency: int
) -> float:
    queue = list(requests)

    async def worker(client: httpx.AsyncClient) -> None:
        while queue:
            path, body, content_type = queue.pop()
            while True:
                r = await client.post(
                    url + path, content=body, headers={"content-type": content_type}
                )
                if r.status_code == ok:
                    break
                if r.status_code not in (429, 503):
                    raise RuntimeError(f"{path}: {r.status_code} {r.text[:300]}")
                await asyncio.sleep(float(r.headers.get("retry-after", "1")))

    start = time.perf_counter()
    async with httpx.AsyncClient(timeout=60) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=5_000, help="events per format")
    parser.add_argument("--batch", type=int, default=500, help="events per request")
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args(argv)
    ids = list(range(args.events))
    chunks = [ids[i : i + args.batch] for i in range(0, len(ids), args.batch)]
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp, ServerProcess(Path(tmp) / "data") as server:
        warm_up = [native_batch(chunk, f"warm-up-{n}") for n, chunk in enumerate(chunks)]
        asyncio.run(send(server.ingest_url, warm_up, 200, args.concurrency))
        for name, encode in FORMATS.items():
            requests = [encode(chunk, f"{name}-{n}") for n, chunk in enumerate(chunks)]
            start = time.perf_counter()
            for _, body, _ in requests:
                split_and_normalize(name, body)
            in_process = args.events / (time.perf_counter() - start)
            seconds = asyncio.run(send(server.ingest_url, requests, OK[name], args.concurrency))
            results[name] = {
                "http_events_per_s": round(args.events / seconds),
                "normalize_events_per_s": round(in_process),
                "body_bytes_per_event": round(sum(len(r[1]) for r in requests) / args.events),
            }
    base = results["native"]["http_events_per_s"]
    for figures in results.values():
        figures["http_vs_native"] = round(figures["http_events_per_s"] / base, 2)
    report = {"events_per_format": args.events, "batch": args.batch, "results": results}
    path = save("bench_sources", report)
    print(
        f"{'format':<12} {'HTTP ev/s':>10} {'vs native':>9} {'normalize ev/s':>15} {'B/event':>8}"
    )
    for name, f in results.items():
        print(
            f"{name:<12} {f['http_events_per_s']:>10} {f['http_vs_native']:>9} "
            f"{f['normalize_events_per_s']:>15} {f['body_bytes_per_event']:>8}"
        )
    print(f"saved {path}")
    return report


if __name__ == "__main__":
    main()
