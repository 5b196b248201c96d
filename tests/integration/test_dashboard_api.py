"""The dashboard's routes over real HTTP: page, assets, /whoami, /events/recent, health, /live."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from streamgauge.keys import KeyStore
from streamgauge.runtime import DataPaths
from streamgauge.scope import KeyScope
from tests.support.known_events import ingest, traffic
from tests.support.server import ServerProcess

STATIC = Path(__file__).resolve().parents[2] / "src" / "streamgauge" / "api" / "static"


def test_the_page_is_served_at_both_paths_with_a_same_origin_policy(server: ServerProcess) -> None:
    for path in ("/", "/dashboard.html"):
        response = httpx.get(server.query_url + path)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        assert "default-src 'self'" in response.headers["content-security-policy"]
        assert '<script type="module" src="/static/js/main.js">' in response.text


REMOTE = re.compile(
    r"""(?:src|href)=["']https?:|from ["']https?:|import\(["']https?:|url\(["']?https?:"""
)


def test_every_asset_the_page_and_its_modules_name_is_served(server: ServerProcess) -> None:
    page = httpx.get(server.query_url + "/").text
    wanted = set(re.findall(r'(?:src|href)="(/static/[^"]+)"', page))
    for module in (STATIC / "js").glob("*.js"):
        wanted.add(f"/static/js/{module.name}")
        for imported in re.findall(r'from "\./([^"]+)"', module.read_text()):
            assert (STATIC / "js" / imported).is_file(), f"{module.name} imports {imported}"
    assert "/static/vendor/uplot/uPlot.iife.min.js" in wanted
    for path in sorted(wanted):
        response = httpx.get(server.query_url + path)
        assert response.status_code == 200, path
        assert not REMOTE.search(response.text), f"{path} loads something from elsewhere"


def test_whoami_in_loopback_development_mode(server: ServerProcess) -> None:
    body = httpx.get(server.query_url + "/whoami").json()
    assert body == {
        "authenticated": True,
        "key_required": False,
        "project_id": "default",
        "scope": "admin",
        "organization_id": None,
        "health": True,
    }


def test_recent_events_newest_first_and_health_counts(server: ServerProcess) -> None:
    now = datetime.now(UTC)
    events = traffic(now, "org_a", requests=6, users=2, minutes_ago=5)
    ingest(server.ingest_url, events)
    ingest(server.ingest_url, events[:2], accepted=0)  # a retry: both are duplicates
    recent = httpx.post(server.query_url + "/events/recent", json={"start": "-1h", "limit": 3})
    assert recent.status_code == 200
    rows = recent.json()["data"]
    newest = sorted(events, key=lambda e: (e["timestamp"], e["id"]), reverse=True)[:3]
    assert [r["event_id"] for r in rows] == [e["id"] for e in newest]
    health = httpx.get(server.query_url + "/ingestion/health").json()
    assert (health["accepted"], health["duplicates"], health["rejected"]) == (len(events), 2, 0)
    assert health["log_head"] == len(events)
    assert health["sinks"][0]["name"] == "hot"
    bad = httpx.post(server.query_url + "/events/recent", json={"limit": 1000})
    assert bad.status_code == 400 and bad.json()["error"]["message"] == "limit: give 1..200"


def _read_live(
    url: str, headers: dict[str, str], messages: list[str], ready: threading.Event
) -> None:
    with httpx.stream("GET", url + "/live", headers=headers, timeout=10) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line.startswith("event: "):
                messages.append(line.removeprefix("event: "))
                ready.set()
            if line.startswith("data: "):
                messages.append(line.removeprefix("data: "))
                if len(messages) >= 4:
                    return


def test_live_announces_a_commit_within_a_second(server: ServerProcess) -> None:
    messages: list[str] = []
    ready = threading.Event()
    reader = threading.Thread(
        target=_read_live, args=(server.query_url, {}, messages, ready), daemon=True
    )
    reader.start()
    assert ready.wait(10), "no hello from /live"
    sent = time.monotonic()
    ingest(
        server.ingest_url, traffic(datetime.now(UTC), "org_a", requests=3, users=1, minutes_ago=1)
    )
    reader.join(5)
    assert not reader.is_alive()
    assert time.monotonic() - sent < 1.5
    assert messages[0] == "hello" and '"offset":0' in messages[1]
    assert messages[2] == "commit" and '"offset":4' in messages[3]  # 3 requests + 1 usage


@pytest.fixture
def keyed(tmp_path: Path) -> Iterator[tuple[ServerProcess, dict[str, str]]]:
    data = tmp_path / "data"
    store = KeyStore(DataPaths(data).keys)
    keys = {
        "write": store.create("shop", KeyScope.WRITE)[1],
        "read": store.create("shop", KeyScope.READ)[1],
        "org_b": store.create("shop", KeyScope.READ, organization_id="org_b")[1],
    }
    store.close()
    with ServerProcess(data) as server:
        yield server, keys


def test_keys_scope_the_dashboard_routes(keyed: tuple[ServerProcess, dict[str, str]]) -> None:
    server, keys = keyed
    now = datetime.now(UTC)
    ingest(
        server.ingest_url,
        traffic(now, "org_a", requests=4, users=2, minutes_ago=3)
        + traffic(now, "org_b", requests=2, users=1, minutes_ago=3),
        keys["write"],
    )
    url = server.query_url

    def auth(name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {keys[name]}"}

    assert httpx.get(url + "/whoami").json() == {"authenticated": False, "key_required": True}
    assert httpx.get(url + "/whoami", headers=auth("write")).status_code == 403
    scoped = httpx.get(url + "/whoami", headers=auth("org_b")).json()
    assert (scoped["project_id"], scoped["organization_id"], scoped["health"]) == (
        "shop",
        "org_b",
        False,
    )
    rows = httpx.post(url + "/events/recent", json={"limit": 50}, headers=auth("org_b")).json()
    assert {r["organization_id"] for r in rows["data"]} == {"org_b"} and len(rows["data"]) == 3
    assert httpx.get(url + "/ingestion/health", headers=auth("org_b")).status_code == 403
    assert httpx.get(url + "/ingestion/health", headers=auth("read")).json()["accepted"] == 8
    assert httpx.get(url + "/live").status_code == 401
    with httpx.stream("GET", url + "/live", headers=auth("org_b"), timeout=10) as response:
        lines = response.iter_lines()
        hello = next(line for line in lines if line.startswith("data: "))
    assert '"health":null' in hello
