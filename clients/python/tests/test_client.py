"""``Client``: queuing, batching, retries, the bounded queue, shutdown — over an in-process
transport (``FakeIngest``), never the network."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import textwrap
import threading
import time
from datetime import UTC, datetime

import httpx

from client_support import FakeIngest, wait_for
from streamgauge_client import Client, DeliveryError


def fast_client(ingest: FakeIngest, **options: object) -> Client:
    settings: dict[str, object] = {"flush_interval": 60.0, "backoff_base": 0.01}
    settings.update(options)
    return Client("http://ingest.test", "sg_write_1", transport=ingest.transport, **settings)  # type: ignore[arg-type]


def test_track_sends_the_native_wire_shape_gzipped_with_the_write_key(ingest: FakeIngest) -> None:
    with fast_client(ingest) as client:
        event_id = client.track(
            "signup",
            user_id="user_123",
            organization_id="org_456",
            session_id="s1",
            anonymous_id="anon",
            properties={"plan": "pro"},
            timestamp=datetime(2025, 10, 3, 12, 0, 0, 123000, tzinfo=UTC),
        )
        assert client.flush(5)
    request = ingest.requests[0]
    assert request.url == "http://ingest.test/events/batch"
    assert request.headers["authorization"] == "Bearer sg_write_1"
    assert request.headers["content-encoding"] == "gzip"
    assert request.headers["content-type"] == "application/json"
    assert json.loads(gzip.decompress(request.content)) == [
        {
            "id": event_id,
            "event": "signup",
            "timestamp": "2025-10-03T12:00:00.123000Z",
            "userId": "user_123",
            "anonymousId": "anon",
            "organizationId": "org_456",
            "sessionId": "s1",
            "properties": {"plan": "pro"},
        }
    ]


def test_usage_and_request_events(ingest: FakeIngest) -> None:
    with fast_client(ingest, gzip=False) as client:
        usage_id = client.usage(
            "ai-text-generation", 1500, unit="tokens", organization_id="org_456", user_id="u"
        )
        request_id = client.request("GET", "/items/{id}", 404, 12.5, error="KeyError")
        client.flush(5)
    by_id = {e["id"]: e for e in json.loads(ingest.requests[0].content)}
    usage, request = by_id[usage_id], by_id[request_id]
    assert usage["event"] == "usage.tracked"
    assert usage["usage"] == {"quantity": 1500, "sku": "ai-text-generation", "unit": "tokens"}
    assert (usage["organizationId"], usage["userId"]) == ("org_456", "u")
    assert request["event"] == "api.request"
    assert request["properties"] == {"method": "GET", "route": "/items/{id}"}
    assert request["performance"] == {"duration": 12.5, "statusCode": 404, "error": "KeyError"}
    assert request["timestamp"].endswith("Z")


def test_a_full_batch_is_sent_without_waiting_for_the_interval(ingest: FakeIngest) -> None:
    client = fast_client(ingest, batch_size=10, flush_interval=3600)
    for i in range(10):
        client.track("e", properties={"i": i})
    wait_for(lambda: len(ingest.events) == 10)
    assert [len(json.loads(gzip.decompress(r.content))) for r in ingest.requests] == [10]
    client.close()


def test_a_partial_batch_is_sent_after_the_flush_interval(ingest: FakeIngest) -> None:
    client = fast_client(ingest, batch_size=100, flush_interval=0.05)
    client.track("e")
    wait_for(lambda: len(ingest.events) == 1)
    client.close()


def test_batches_never_exceed_batch_size(ingest: FakeIngest) -> None:
    with fast_client(ingest, batch_size=7) as client:
        for _ in range(50):
            client.track("e")
        assert client.flush(5)
    sizes = [len(json.loads(gzip.decompress(r.content))) for r in ingest.requests]
    assert sum(sizes) == 50 and max(sizes) <= 7


def test_a_503_burst_and_network_errors_are_retried_and_every_event_arrives_once(
    ingest: FakeIngest,
) -> None:
    ingest.script = [httpx.Response(503), httpx.ConnectError("refused"), httpx.Response(502)]
    with fast_client(ingest) as client:
        ids = {client.track("e") for _ in range(30)}
        assert client.flush(5)
        assert client.stats.retried == 3
        assert (client.stats.sent, client.stats.failed) == (30, 0)
    assert {e["id"] for e in ingest.events} == ids
    assert len(ingest.received) == 30  # nothing delivered twice


def test_a_429_is_retried_no_sooner_than_retry_after(ingest: FakeIngest) -> None:
    ingest.script = [httpx.Response(429, headers={"Retry-After": "0.3"})]
    with fast_client(ingest) as client:
        client.track("e")
        assert client.flush(5)
    assert len(ingest.events) == 1
    assert ingest.times[1] - ingest.times[0] >= 0.3


def test_a_full_queue_drops_the_oldest_counts_and_never_blocks(ingest: FakeIngest) -> None:
    ingest.gate = threading.Event()  # the server hangs: the sender is stuck on one request
    errors: list[DeliveryError] = []
    client = fast_client(ingest, batch_size=1, max_queue_size=5, on_error=errors.append)
    first = client.track("e")
    wait_for(lambda: client.stats.queued == 0)  # taken by the stuck sender
    started = time.monotonic()
    later = [client.track("e", properties={"i": i}) for i in range(20)]
    assert time.monotonic() - started < 0.5
    assert client.stats.dropped == 15 and client.stats.queued == 5
    ingest.gate.set()
    assert client.flush(5)
    assert {e["id"] for e in ingest.events} == {first, *later[-5:]}
    assert [(e.message, e.event_count) for e in errors] == [
        ("queue full: dropped 15 oldest events", 15)
    ]
    client.close()


def test_a_terminal_refusal_is_reported_not_retried(ingest: FakeIngest) -> None:
    ingest.script = [
        httpx.Response(400, json={"error": {"code": "invalid", "message": "bad", "details": {}}})
    ]
    errors: list[DeliveryError] = []
    with fast_client(ingest, on_error=errors.append) as client:
        client.track("e")
        client.track("e")
        assert client.flush(5)
        assert (client.stats.failed, client.stats.retried, client.stats.sent) == (2, 0, 0)
    assert len(ingest.requests) == 1
    assert errors[0].status_code == 400 and errors[0].event_count == 2


def test_close_with_the_server_down_gives_up_at_the_deadline() -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    errors: list[DeliveryError] = []
    client = Client(
        "http://ingest.test", transport=httpx.MockTransport(down), on_error=errors.append
    )
    for _ in range(3):
        client.track("e")
    started = time.monotonic()
    client.close(timeout=0.5)
    assert time.monotonic() - started < 2.0
    assert client.stats.failed == 3 and client.stats.sent == 0
    assert errors and errors[-1].retryable


def test_nothing_raises_into_the_app_after_close(ingest: FakeIngest) -> None:
    client = fast_client(ingest)
    client.close()
    client.close()  # idempotent
    client.track("late")
    assert client.stats.dropped == 1
    assert client.flush(1) is True  # nothing was ever queued


def test_unserialisable_properties_are_sent_as_text(ingest: FakeIngest) -> None:
    with fast_client(ingest) as client:
        client.track("e", properties={"when": datetime(2025, 1, 1, tzinfo=UTC), "obj": object})
        client.flush(5)
    assert ingest.events[0]["properties"]["when"] == "2025-01-01 00:00:00+00:00"


def test_disabled_client_queues_nothing(ingest: FakeIngest) -> None:
    with fast_client(ingest, enabled=False) as client:
        client.track("e")
        assert client.stats.queued == 0
    assert ingest.requests == []


def test_events_still_queued_at_exit_are_delivered(tmp_path: object) -> None:
    script = textwrap.dedent(
        """
        import json, sys, httpx
        from streamgauge_client import Client

        def store(request):
            import gzip
            with open(sys.argv[1], "ab") as out:
                out.write(gzip.decompress(request.read()) + b"\\n")
            return httpx.Response(200, json={"accepted": 1})

        client = Client("http://ingest.test", transport=httpx.MockTransport(store),
                        flush_interval=3600)
        client.track("at.exit")
        # no close(): the interpreter exits with the event still queued
        """
    )
    out = f"{tmp_path}/received.jsonl"
    subprocess.run([sys.executable, "-c", script, out], check=True, timeout=30)
    with open(out) as received:
        assert [e["event"] for e in json.loads(received.read())] == ["at.exit"]
