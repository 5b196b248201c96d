"""The real PostHog Python library, v0 and v1 capture, against a real server."""

from __future__ import annotations

from pathlib import Path

import httpx
import posthog

from tests.integration.sources_support import FlakyProxy, create_write_key, dead_letters
from tests.support.server import ServerProcess
from tests.support.store import stored_events

UUIDS = [f"0199a3b4-0000-7000-8000-{i:012d}" for i in range(40)]


def test_v0_and_v1_captures_arrive_mapped_gzipped_and_keyed(tmp_path: Path) -> None:
    data = tmp_path / "data"
    key = create_write_key(data, "shop")
    with ServerProcess(data) as server:
        v0 = posthog.Posthog(key, host=server.ingest_url, gzip=True, sync_mode=True)
        v0.capture("clicked", distinct_id="u1", uuid=UUIDS[0], groups={"organization": "org-1"},
                   properties={"$session_id": "s1", "button": "buy"})  # fmt: skip
        v1 = posthog.Posthog(key, host=server.ingest_url, capture_mode="v1",
                             capture_compression="gzip", sync_mode=True)  # fmt: skip
        v1.capture("viewed", distinct_id="u2", uuid=UUIDS[1], properties={"$session_id": "s2"})
        url = server.ingest_url
        r = httpx.post(f"{url}/i/v1/analytics/events", json={"batch": [{"event": "x"}]},
                       headers={"Authorization": f"Bearer {key}"})  # fmt: skip
        assert (r.status_code, r.json()) == (200, {"results": {}})  # no uuid: nothing to name
        bad = {"event": "y", "uuid": UUIDS[2]}
        r = httpx.post(f"{url}/i/v1/analytics/events", json={"batch": [bad]},
                       headers={"Authorization": f"Bearer {key}"})  # fmt: skip
        assert r.status_code == 200
        drop = {"result": "drop", "details": "distinct_id: `distinct_id` is required"}
        assert r.json() == {"results": {UUIDS[2]: drop}}
        r = httpx.post(f"{url}/batch/", json={"api_key": "nope", "batch": []})
        assert r.status_code == 401
        assert r.json() == {"type": "authentication_error", "code": "unauthorized",
                            "detail": "unknown or revoked API key", "attr": None}  # fmt: skip
        r = httpx.post(f"{url}/e/", content=b"[{", headers={"Authorization": f"Bearer {key}"})
        assert r.status_code == 400 and r.json()["type"] == "validation_error"
    rows = stored_events(data, "project_id, event_id, event, user_id, session_id, "
                               "organization_id, source, properties")  # fmt: skip
    assert [{k: v for k, v in r.items() if k != "properties"} for r in rows] == [
        {"project_id": "shop", "event_id": UUIDS[0], "event": "clicked", "user_id": "u1",
         "session_id": "s1", "organization_id": "org-1", "source": "posthog"},
        {"project_id": "shop", "event_id": UUIDS[1], "event": "viewed", "user_id": "u2",
         "session_id": "s2", "organization_id": None, "source": "posthog"},
    ]  # fmt: skip
    assert rows[0]["properties"] == '{"button":"buy"}'
    assert [(d["source"], d["field"]) for d in dead_letters(data)] == [
        ("posthog", "distinct_id"),
        ("posthog", "uuid"),
    ]


def test_a_503_is_retried_and_every_event_is_stored_once(tmp_path: Path) -> None:
    with ServerProcess(tmp_path / "data") as server, FlakyProxy(server.ingest_url) as proxy:
        v0 = posthog.Posthog("k", host=proxy.url, gzip=True, flush_at=100)
        for i in range(20):
            v0.capture("clicked", distinct_id=f"u{i}", uuid=UUIDS[i])
        v0.flush()
        v1 = posthog.Posthog("k", host=proxy.url, capture_mode="v1", flush_at=100)
        for i in range(20, 40):
            v1.capture("clicked", distinct_id=f"u{i}", uuid=UUIDS[i])
        v1.flush()
        assert proxy.requests >= 3
    ids = [r["event_id"] for r in stored_events(tmp_path / "data", "event_id")]
    assert ids == UUIDS
