"""The ingest API over real HTTP: the seed's curl examples, batches, limits, errors."""

from __future__ import annotations

import gzip
import json
import subprocess
from pathlib import Path

import httpx
import pytest
import zstandard

from tests.support.server import ServerProcess, wait_for
from tests.support.store import stored_events

SEED_EVENT = {
    "event": "api.request",
    "userId": "user_123",
    "properties": {"method": "GET", "path": "/api/users"},
    "performance": {"duration": 45.5, "statusCode": 200},
}


def curl(*args: str) -> tuple[int, dict[str, object]]:
    out = subprocess.run(
        ["curl", "-s", "-w", "\n%{http_code}", *args], capture_output=True, check=True, text=True
    ).stdout
    body, _, status = out.rpartition("\n")
    return int(status), json.loads(body)


def test_seed_curl_examples_work_as_written(server: ServerProcess, repo_root: Path) -> None:
    status, body = curl(
        "-X", "POST", f"{server.ingest_url}/events", "-H", "Content-Type: application/json",
        "-d", json.dumps(SEED_EVENT, indent=2),
    )  # fmt: skip
    assert (status, body) == (200, {"accepted": 1, "duplicates": 0, "rejected": 0, "errors": []})
    status, body = curl(
        "-X", "POST", f"{server.ingest_url}/events/batch", "-H", "Content-Type: application/json",
        "-d", f"@{repo_root / 'examples' / 'sample-events.json'}",
    )  # fmt: skip
    assert (status, body["accepted"], body["rejected"]) == (200, 5, 0)
    server.stop()
    rows = stored_events(server.data_dir, "event, user_id, method, path, duration_ms, status_code")
    assert sorted(rows, key=lambda r: (r["event"], r["user_id"] or "", r["path"])) == [
        {"event": "api.request", "user_id": "user_123", "method": "GET", "path": "/api/users",
         "duration_ms": 45.5, "status_code": 200},
        {"event": "api.request", "user_id": "user_123", "method": "GET", "path": "/api/users",
         "duration_ms": 45.5, "status_code": 200},
        {"event": "api.request", "user_id": "user_124", "method": "POST",
         "path": "/api/orders/{id}", "duration_ms": 120.25, "status_code": 201},
        {"event": "api.request", "user_id": "user_125", "method": "GET", "path": "/api/reports",
         "duration_ms": 1503.0, "status_code": 500},
        {"event": "page.viewed", "user_id": None, "method": None, "path": "/pricing",
         "duration_ms": None, "status_code": None},
        {"event": "usage.tracked", "user_id": "user_123", "method": None, "path": None,
         "duration_ms": None, "status_code": None},
    ]  # fmt: skip


def test_seed_query_example_counts_per_hour(server: ServerProcess) -> None:
    batch = [
        {"event": "a", "timestamp": "2025-10-03T10:15:00Z"},
        {"event": "a", "timestamp": "2025-10-03T10:45:00Z"},
        {"event": "a", "timestamp": "2025-10-03T12:00:00Z"},
        {"event": "a", "timestamp": "2025-10-04T00:00:00Z"},  # outside [start, end)
    ]
    assert httpx.post(f"{server.ingest_url}/events/batch", json=batch).status_code == 200
    status, body = curl(
        "-X", "POST", f"{server.query_url}/query", "-H", "Content-Type: application/json",
        "-d", '{"start": "2025-10-03T00:00:00Z", "end": "2025-10-03T23:59:59Z", "groupBy": "hour"}',
    )  # fmt: skip
    assert status == 200
    counts = {row["time"]: row["count"] for row in body["data"] if row["count"]}  # type: ignore[index,union-attr]
    assert counts == {"2025-10-03T10:00:00Z": 2, "2025-10-03T12:00:00Z": 1}


def post_batch(server: ServerProcess, body: bytes, **headers: str) -> httpx.Response:
    return httpx.post(f"{server.ingest_url}/events/batch", content=body, headers=headers)


def test_ndjson_gzip_and_zstd_batches(server: ServerProcess) -> None:
    lines = b"\n".join(json.dumps({"event": "n", "id": f"n{i}"}).encode() for i in range(3))
    assert (
        post_batch(server, lines, **{"content-type": "application/x-ndjson"}).json()["accepted"]
        == 3
    )
    packed = gzip.compress(json.dumps([{"event": "g", "id": "g1"}]).encode())
    r = post_batch(
        server, packed, **{"content-type": "application/json", "content-encoding": "gzip"}
    )
    assert r.json()["accepted"] == 1
    packed = zstandard.ZstdCompressor().compress(json.dumps({"events": [{"event": "z"}]}).encode())
    r = post_batch(server, packed, **{"content-encoding": "zstd"})
    assert r.json()["accepted"] == 1


def test_partial_batch_accepts_valid_and_reports_invalid_by_index(server: ServerProcess) -> None:
    batch = [{"event": "ok", "id": "1"}, {"userId": "x"}, {"event": "ok", "id": "2"},
             {"event": "bad", "performance": {"statusCode": "500"}}]  # fmt: skip
    r = httpx.post(f"{server.ingest_url}/events/batch", json=batch)
    assert r.status_code == 200
    assert r.json() == {
        "accepted": 2, "duplicates": 0, "rejected": 2,
        "errors": [
            {"index": 1, "field": "event", "message": "`event` is required"},
            {"index": 3, "field": "performance.statusCode",
             "message": "Expected `int | null`, got `str`"},
        ],
    }  # fmt: skip


def test_nothing_valid_is_a_400_with_the_same_body(server: ServerProcess) -> None:
    r = httpx.post(f"{server.ingest_url}/events/batch", json=[{"nope": 1}])
    assert r.status_code == 400
    assert r.json()["rejected"] == 1 and r.json()["accepted"] == 0


def test_retried_requests_count_as_duplicates(server: ServerProcess) -> None:
    batch = [{"event": "e", "id": "dup-1"}, {"event": "e", "id": "dup-2"}]
    assert httpx.post(f"{server.ingest_url}/events/batch", json=batch).json()["accepted"] == 2
    again = httpx.post(f"{server.ingest_url}/events/batch", json=batch).json()
    assert (again["accepted"], again["duplicates"]) == (0, 2)
    server.stop()
    assert [r["event_id"] for r in stored_events(server.data_dir, "event_id")] == ["dup-1", "dup-2"]


@pytest.mark.parametrize(
    ("body", "headers", "status", "code"),
    [
        (b"[{", {}, 400, "malformed_json"),
        (b"true", {}, 400, "malformed_batch"),
        (b"[]", {}, 400, "empty_batch"),
        (b"[]", {"content-encoding": "br"}, 415, "unsupported_media_type"),
        (b"not gzip", {"content-encoding": "gzip"}, 400, "bad_encoding"),
    ],
)
def test_bad_bodies_get_a_clear_4xx(
    server: ServerProcess, body: bytes, headers: dict[str, str], status: int, code: str
) -> None:
    r = post_batch(server, body, **headers)
    assert r.status_code == status
    assert r.json()["error"]["code"] == code and r.json()["error"]["message"]


def test_single_event_endpoint_rejects_arrays_and_bad_events(server: ServerProcess) -> None:
    r = httpx.post(f"{server.ingest_url}/events", content=b"[]")
    assert r.status_code == 400 and r.json()["error"]["code"] == "malformed_json"
    r = httpx.post(f"{server.ingest_url}/events", json={"event": 1})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "event"


def test_unknown_routes_and_methods_use_the_error_shape(server: ServerProcess) -> None:
    r = httpx.get(f"{server.ingest_url}/nope")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    r = httpx.get(f"{server.ingest_url}/events")
    assert r.status_code == 405 and r.json()["error"]["code"] == "method_not_allowed"


def test_metrics_count_what_happened(server: ServerProcess) -> None:
    httpx.post(f"{server.ingest_url}/events/batch", json=[{"event": "a", "id": "m1"}, {"x": 1}])
    httpx.post(f"{server.ingest_url}/events/batch", json=[{"event": "a", "id": "m1"}])
    text = httpx.get(f"{server.ingest_url}/metrics").text
    assert 'streamgauge_events_accepted_total{source="native"} 1.0' in text
    assert 'streamgauge_events_rejected_total{source="native"} 1.0' in text
    assert 'streamgauge_events_duplicate_total{source="native"} 1.0' in text
    assert 'streamgauge_sink_lag_events{sink="hot"}' in text
    assert "streamgauge_http_request_duration_seconds_bucket" in text


def test_health_and_ready_on_both_ports(server: ServerProcess) -> None:
    for url in (server.ingest_url, server.query_url):
        assert httpx.get(f"{url}/health").json() == {"status": "ok"}
        assert httpx.get(f"{url}/ready").status_code == 200


def test_sigterm_drains_and_exits_cleanly(server: ServerProcess) -> None:
    batch = [{"event": "d", "id": f"d{i}"} for i in range(500)]
    assert httpx.post(f"{server.ingest_url}/events/batch", json=batch).json()["accepted"] == 500
    assert server.stop() == 0
    assert len(stored_events(server.data_dir, "event_id")) == 500


def test_fresh_within_one_second(server: ServerProcess) -> None:
    body = {"start": "2025-10-03T00:00:00Z", "end": "2025-10-04T00:00:00Z", "groupBy": "day"}
    for n in range(1, 6):
        event = {"event": "f", "timestamp": "2025-10-03T08:00:00Z", "id": f"f{n}"}
        assert httpx.post(f"{server.ingest_url}/events", json=event).status_code == 200

        def visible(expected: int = n) -> bool:
            data = httpx.post(f"{server.query_url}/query", json=body).json()["data"]
            return sum(row["count"] for row in data) == expected

        wait_for(visible, timeout=1.0, interval=0.01, what=f"event {n} visible within 1 s")
