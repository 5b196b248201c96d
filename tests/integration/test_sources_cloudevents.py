"""OpenMeter's client and the cloudevents library against a real server."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path

import httpx
from cloudevents.conversion import to_structured
from cloudevents.http import CloudEvent
from openmeter import Client
from openmeter._generated.models import Event as MeterEvent

from tests.integration.sources_support import FlakyProxy, create_write_key, dead_letters, sg
from tests.support.server import ServerProcess
from tests.support.store import stored_events

COLUMNS = "project_id, event_id, event, organization_id, usage_quantity, usage_unit, usage_sku"
WHEN = datetime(2025, 10, 3, 12, 0, tzinfo=UTC)


def meter_event(i: int, source: str = "billing") -> MeterEvent:
    data = {"value": i + 1, "unit": "tokens"}
    return MeterEvent(id=f"e{i}", source=source, specversion="1.0", type="ai.tokens",
                      subject=f"org-{i % 2}", time=WHEN, data=data)  # fmt: skip


def test_openmeter_and_cloudevents_clients_arrive_with_usage(tmp_path: Path) -> None:
    data = tmp_path / "data"
    key = create_write_key(data, "shop")
    with ServerProcess(data) as server:
        client = Client(endpoint=server.ingest_url, token=key)
        client.events.ingest_event(meter_event(0))
        client.events.ingest_events([meter_event(1), meter_event(2)])
        event = CloudEvent({"type": "storage", "source": "disk", "id": "c1", "subject": "org-9"},
                           {"value": "2.5", "unit": "gb-hours"})  # fmt: skip
        headers, body = to_structured(event)
        r = httpx.post(f"{server.ingest_url}/api/v1/events", content=gzip.compress(body),
                       headers={**headers, "Content-Encoding": "gzip",
                                "Authorization": f"Bearer {key}"})  # fmt: skip
        assert (r.status_code, r.content) == (204, b"")
        url, bearer = f"{server.ingest_url}/api/v1/events", {"Authorization": f"Bearer {key}"}
        bad = {"specversion": "1.0", "id": "x", "source": "s", "type": ""}
        r = httpx.post(url, json=[bad], headers=bearer)
        assert (r.status_code, r.headers["content-type"]) == (400, "application/problem+json")
        assert r.json()["errors"] == [{"index": 0, "field": "type",
                                       "message": "`type` must not be empty"}]  # fmt: skip
        assert r.json()["title"] == "Bad Request" and r.json()["status"] == 400
        r = httpx.post(url, content=b"{}", headers={**bearer, "Content-Type": "text/csv"})
        assert (r.status_code, r.json()["title"]) == (415, "Unsupported Media Type")
        r = httpx.post(url, json=[], headers={"Authorization": "Bearer nope"})
        assert r.status_code == 401 and r.json()["detail"] == "unknown or revoked API key"
    assert stored_events(data, COLUMNS) == [
        {"project_id": "shop", "event_id": f"billing e{i}", "event": "ai.tokens",
         "organization_id": f"org-{i % 2}", "usage_quantity": float(i + 1),
         "usage_unit": "tokens", "usage_sku": "ai.tokens"}
        for i in range(3)
    ] + [{"project_id": "shop", "event_id": "disk c1", "event": "storage",
          "organization_id": "org-9", "usage_quantity": 2.5, "usage_unit": "gb-hours",
          "usage_sku": "storage"}]  # fmt: skip
    [letter] = dead_letters(data)
    assert (letter["source"], letter["field"]) == ("cloudevents", "type")
    shown = json.loads(sg(data, "dlq", "show", str(letter["id"]), "-o", "json").stdout)
    assert json.loads(shown["payload"])["message"] == bad  # the envelope keeps it as sent


def test_a_503_is_retried_and_every_event_is_stored_once(tmp_path: Path) -> None:
    with ServerProcess(tmp_path / "data") as server, FlakyProxy(server.ingest_url) as proxy:
        client = Client(endpoint=proxy.url, token="k")
        client.events.ingest_events([meter_event(i) for i in range(20)])
        assert proxy.requests == 2
    ids = [r["event_id"] for r in stored_events(tmp_path / "data", "event_id")]
    assert ids == sorted(f"billing e{i}" for i in range(20))
