"""The real Segment and RudderStack Python libraries against a real server."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from pathlib import Path

import httpx
from rudderstack.analytics.client import Client as RudderClient
from segment.analytics.client import Client as SegmentClient

from tests.integration.sources_support import FlakyProxy, create_write_key, dead_letters
from tests.support.server import ServerProcess
from tests.support.store import stored_events

COLUMNS = "event_id, event, user_id, anonymous_id, organization_id, path, source, properties"
WHEN = datetime(2025, 10, 3, 12, 0, tzinfo=UTC)


def test_segment_and_rudderstack_calls_arrive_mapped_and_gzipped(tmp_path: Path) -> None:
    with ServerProcess(tmp_path / "data") as server:
        segment = SegmentClient("wk", host=server.ingest_url, gzip=True, max_retries=0)
        segment.track("u1", "Signed Up", {"plan": "pro"}, context={"groupId": "org-1"},
                      timestamp=WHEN, message_id="seg-1")  # fmt: skip
        segment.page("u1", "Docs", "Install", {"path": "/docs/install"}, message_id="seg-2")
        segment.group("u1", "org-2", {"name": "Acme"}, message_id="seg-3")
        segment.flush()
        rudder = RudderClient("wk", host=server.ingest_url, max_retries=0)  # gzip by default
        rudder.identify("u2", {"email": "a@b.c"}, message_id="rud-1")
        rudder.screen("u2", "Home", "Feed", {"tab": "new"}, message_id="rud-2")
        rudder.flush()
    rows = stored_events(tmp_path / "data", COLUMNS)
    assert [(r["event_id"], r["event"], r["user_id"], r["organization_id"]) for r in rows] == [
        ("rud-1", "identify", "u2", None),
        ("rud-2", "screen", "u2", None),
        ("seg-1", "Signed Up", "u1", "org-1"),
        ("seg-2", "page", "u1", None),
        ("seg-3", "group", "u1", "org-2"),
    ]
    assert [r["properties"] for r in rows] == [
        '{"email": "a@b.c"}',
        '{"tab": "new"}',
        '{"plan": "pro"}',
        '{"path": "/docs/install"}',
        '{"name": "Acme"}',
    ]
    assert rows[3]["path"] == "/docs/install"
    assert {r["source"] for r in rows} == {"segment"}
    [signed_up] = stored_events(tmp_path / "data", "timestamp").__getitem__(slice(2, 3))
    skew = abs((signed_up["timestamp"] - WHEN).total_seconds())
    assert skew < 5  # corrected by (received_at - sentAt): only the request's latency remains


def test_keys_from_basic_auth_or_the_body_and_errors_with_code(tmp_path: Path) -> None:
    data = tmp_path / "data"
    key = create_write_key(data, "shop")
    with ServerProcess(data) as server:
        client = SegmentClient(key, host=server.ingest_url, sync_mode=True)
        client.track("u1", "From Header", message_id="h-1")
        url = f"{server.ingest_url}/v1/batch"
        track = {"type": "track", "event": "From Body", "userId": "u", "messageId": "b-1"}
        r = httpx.post(url, json={"batch": [track, {"type": "track"}], "writeKey": key})
        assert r.status_code == 200
        assert r.json() == {
            "success": True,
            "accepted": 1,
            "duplicates": 0,
            "rejected": 1,
            "errors": [{"index": 1, "field": "event", "message": "a track call needs `event`"}],
        }
        r = httpx.post(url, json={"batch": [], "writeKey": "nope"})
        unknown = {"code": "unauthorized", "message": "unknown or revoked API key"}
        assert (r.status_code, r.json()) == (401, unknown)
        basic = {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}
        r = httpx.post(url, content=b"{nope", headers=basic)
        assert r.status_code == 400 and r.json()["code"] == "bad_request"
        assert r.json()["message"].startswith("request body is not a Segment batch")
        r = httpx.post(f"{server.ingest_url}/v1/track", json={"userId": "u"}, headers=basic)
        assert r.status_code == 400 and r.json()["code"] == "invalid_events"
    rows = stored_events(data, "project_id, event_id, event")
    assert rows == [
        {"project_id": "shop", "event_id": "b-1", "event": "From Body"},
        {"project_id": "shop", "event_id": "h-1", "event": "From Header"},
    ]
    letters = dead_letters(data)
    assert [(d["source"], d["field"]) for d in letters] == [("segment", "event")] * 2


def test_a_503_is_retried_and_every_event_is_stored_once(tmp_path: Path) -> None:
    with ServerProcess(tmp_path / "data") as server, FlakyProxy(server.ingest_url) as proxy:
        segment = SegmentClient("wk", host=proxy.url, gzip=True)
        for i in range(20):
            segment.track(f"u{i}", "Clicked", message_id=f"seg-{i}")
        segment.flush()
        rudder = RudderClient("wk", host=proxy.url)
        for i in range(20):
            rudder.track(f"u{i}", "Clicked", message_id=f"rud-{i}")
        rudder.flush()
        assert proxy.requests >= 3  # the failed one, then the retry, then RudderStack's
    ids = [r["event_id"] for r in stored_events(tmp_path / "data", "event_id")]
    assert ids == sorted([f"rud-{i}" for i in range(20)] + [f"seg-{i}" for i in range(20)])
