"""The dashboard in a real browser against a real server with known events."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Page

from streamgauge.keys import KeyStore
from streamgauge.runtime import DataPaths
from streamgauge.scope import KeyScope
from tests.browser.conftest import Watched, change, headline, poll, refreshes, wait_view
from tests.support.known_events import Wire, ingest, traffic
from tests.support.known_events import headline as expected_headline
from tests.support.server import ServerProcess

pytestmark = pytest.mark.browser


def parse(value: str | None) -> datetime:
    assert value
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def shown_range(watched: Watched) -> tuple[datetime, datetime]:
    page = watched.page
    return parse(page.get_attribute("body", "data-start")), parse(
        page.get_attribute("body", "data-end")
    )


def local_input(page: Page, at: datetime) -> str:
    """``at`` as a ``datetime-local`` value in the browser's time zone (to the minute)."""
    zone = page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone")
    return at.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M")


def api_headline(server: ServerProcess, start: datetime, end: datetime) -> dict[str, float]:
    """The same numbers asked of the query API directly."""
    body = {"start": start.isoformat(), "end": end.isoformat(), "groupBy": "none"}
    url = server.query_url
    performance = httpx.post(f"{url}/templates/performance", json=body).json()["data"][0]
    errors = httpx.post(f"{url}/templates/errors", json=body).json()["data"][0]
    users = httpx.post(f"{url}/query", json={**body, "metrics": ["uniq(user_id)", "count"]}).json()[
        "data"
    ][0]
    usage = httpx.post(f"{url}/templates/usage", json=body).json()["data"]
    return {
        "requests": performance["requests"],
        "p95_ms": performance["p95_ms"],
        "error_rate": errors["error_rate"],
        "active_users": users["uniq(user_id)"],
        "usage_events": sum(row["events"] for row in usage),
    }


def test_numbers_match_the_api_follow_live_events_filters_and_the_url(
    server: ServerProcess, open_page: Callable[..., Watched]
) -> None:
    now = datetime.now(UTC)
    events: list[Wire] = (
        traffic(now, "org_a", requests=30, users=6, minutes_ago=20)
        + traffic(now, "org_b", requests=12, users=3, minutes_ago=10)
        + traffic(now, "org_a", requests=10, users=2, minutes_ago=90)  # the previous hour
    )
    ingest(server.ingest_url, events)
    watched = open_page()
    page = watched.page
    page.goto(f"{server.query_url}/?range=1h")
    wait_view(page, "range=1h", after=0)

    start, end = shown_range(watched)
    assert end - start == timedelta(hours=1) and abs((end - now).total_seconds()) < 30
    shown = headline(page)
    assert shown == pytest.approx(expected_headline(events, start, end))
    assert shown == pytest.approx(api_headline(server, start, end))
    before = expected_headline(events, start - timedelta(hours=1), start)
    assert change(page, "requests") == pytest.approx((42 - before["requests"]) / before["requests"])
    assert page.locator("[data-table=tail] tbody tr").count() == 12
    assert page.get_attribute('[data-health="accepted"]', "data-value") == str(len(events))

    # Live: new events show within 2 s, without a reload.
    seen = refreshes(page)
    more = traffic(datetime.now(UTC), "org_b", requests=5, users=2, minutes_ago=0.5)
    sent = time.monotonic()
    ingest(server.ingest_url, more)
    poll(lambda: headline(page)["requests"] == 47, timeout=2.0, what="requests to reach 47")
    assert time.monotonic() - sent < 2.0 and refreshes(page) > seen
    events += more

    # Range, organization and event: each a new view in the URL, numbers still exact.
    seen = refreshes(page)
    page.click("[data-range='24h']")
    wait_view(page, "range=24h", after=seen)
    start, end = shown_range(watched)
    assert headline(page) == pytest.approx(expected_headline(events, start, end))
    seen = refreshes(page)
    page.select_option("#organization", "org_b")
    wait_view(page, "org=org_b", after=seen)
    start, end = shown_range(watched)
    assert headline(page) == pytest.approx(expected_headline(events, start, end, org="org_b"))
    seen = refreshes(page)
    page.select_option("#event", "usage.tracked")
    wait_view(page, "event=usage.tracked", after=seen)
    assert "range=24h&org=org_b&event=usage.tracked" in page.url
    start, end = shown_range(watched)
    only_usage = expected_headline(events, start, end, org="org_b", event="usage.tracked")
    assert headline(page) == pytest.approx(only_usage)
    assert only_usage["usage_events"] == 5 and only_usage["requests"] == 0

    # The URL reproduces the view.
    page.reload()
    wait_view(page, "event=usage.tracked", after=0)
    assert page.locator("#organization").input_value() == "org_b"
    assert page.locator("#event").input_value() == "usage.tracked"
    assert page.get_attribute("[data-range='24h']", "aria-pressed") == "true"
    start, end = shown_range(watched)
    assert headline(page) == pytest.approx(only_usage)

    # A custom range from the form, and back to the preset with the browser's Back.
    seen = refreshes(page)
    page.click("[data-range='custom']")
    custom_start, custom_end = start - timedelta(hours=2), end - timedelta(hours=1)
    page.fill("#custom-range input[name=from]", local_input(page, custom_start))
    page.fill("#custom-range input[name=to]", local_input(page, custom_end))
    page.click("#custom-range button[type=submit]")
    wait_view(page, "from=", after=seen)
    shown_start, shown_end = shown_range(watched)
    assert shown_start == custom_start.replace(second=0, microsecond=0)
    assert shown_end == custom_end.replace(second=0, microsecond=0)
    assert headline(page) == pytest.approx(
        expected_headline(events, shown_start, shown_end, org="org_b", event="usage.tracked")
    )
    seen = refreshes(page)
    page.go_back()
    wait_view(page, "range=24h", after=seen)
    assert page.get_attribute("[data-range='24h']", "aria-pressed") == "true"

    # Phone width, dark mode: nothing wider than the screen.
    page.set_viewport_size({"width": 390, "height": 844})
    page.emulate_media(color_scheme="dark")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(15, 17, 21)"

    assert watched.errors == []
    assert all(url.startswith(server.query_url) for url in watched.requests)


@pytest.fixture
def keyed_server(tmp_path: Path) -> Iterator[tuple[ServerProcess, dict[str, str]]]:
    data = tmp_path / "data"
    store = KeyStore(DataPaths(data).keys)
    keys = {
        "write": store.create("shop", KeyScope.WRITE)[1],
        "org_b": store.create("shop", KeyScope.READ, organization_id="org_b")[1],
    }
    store.close()
    with ServerProcess(data) as server:
        yield server, keys


def test_an_organization_key_sees_only_its_organization(
    keyed_server: tuple[ServerProcess, dict[str, str]], open_page: Callable[..., Watched]
) -> None:
    server, keys = keyed_server
    now = datetime.now(UTC)
    events = traffic(now, "org_a", requests=20, users=4, minutes_ago=30) + traffic(
        now, "org_b", requests=9, users=2, minutes_ago=20
    )
    ingest(server.ingest_url, events, keys["write"])
    watched = open_page()
    page = watched.page
    page.goto(f"{server.query_url}/dashboard.html?range=24h&org=org_a")
    page.locator("#key-dialog input[name=key]").fill(keys["org_b"])
    page.locator("#key-dialog button[type=submit]").click()
    wait_view(page, "org=org_b", after=0)

    start, end = shown_range(watched)
    assert headline(page) == pytest.approx(expected_headline(events, start, end, org="org_b"))
    assert headline(page)["requests"] == 9
    organizations = page.locator("#organization option").all_inner_texts()
    assert organizations == ["org_b"] and page.locator("#organization").is_disabled()
    assert page.locator("#health").is_hidden()
    tail = page.locator("[data-table=tail] tbody tr td:nth-child(3)").all_inner_texts()
    assert set(tail) == {"org_b"}

    # The key is kept for the session: a reload asks for nothing.
    page.reload()
    wait_view(page, "org=org_b", after=0)
    assert not page.locator("#key-dialog").is_visible()
    assert headline(page)["requests"] == 9
    assert watched.errors == []
