"""The demo traffic generator: seeded, exact in size, canonical, and realistic enough."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow.compute as pc

from streamgauge.demo import TrafficConfig, generate_events, generate_table
from streamgauge.model.event import arrow_schema, events_to_arrow

CONFIG = TrafficConfig(
    datetime(2025, 10, 1, tzinfo=UTC), datetime(2025, 10, 3, tzinfo=UTC), events=5000, seed=3
)


def test_same_seed_same_events_and_exact_size() -> None:
    table = generate_table(CONFIG)
    assert table.num_rows == 5000 and table.schema == arrow_schema()
    assert table.equals(generate_table(CONFIG))
    assert not table.equals(
        generate_table(TrafficConfig(CONFIG.start, CONFIG.end, events=5000, seed=4))
    )


def test_events_are_in_range_ordered_and_unique() -> None:
    table = generate_table(CONFIG)
    times = table["timestamp"].to_pylist()
    assert times == sorted(times) and times[0] >= CONFIG.start and times[-1] < CONFIG.end
    assert pc.count_distinct(table["event_id"]).as_py() == table.num_rows


def test_events_round_trip_through_the_canonical_model() -> None:
    events = generate_events(CONFIG)
    assert events_to_arrow(events).equals(generate_table(CONFIG))


def test_traffic_has_projects_usage_errors_and_an_incident() -> None:
    table = generate_table(CONFIG).to_pylist()
    assert {e["project_id"] for e in table} == {"proj_0", "proj_1", "proj_2"}
    usage = [e for e in table if e["event"] == "usage.tracked"]
    assert usage and all(
        e["usage_sku"] and e["usage_unit"] and e["usage_quantity"] > 0 for e in usage
    )
    requests = [e for e in table if e["event"] == "api.request"]
    assert all(
        e["method"] and e["path"] and e["duration_ms"] > 0 and e["status_code"] for e in requests
    )
    begin, end = CONFIG.incident_window()
    during = [
        e
        for e in requests
        if begin <= e["timestamp"] < end and e["path"] == "/api/orders" and e["method"] == "POST"
    ]
    before = [
        e
        for e in requests
        if e["timestamp"] < begin and e["path"] == "/api/orders" and e["method"] == "POST"
    ]
    share = lambda rows: sum(e["status_code"] >= 500 for e in rows) / len(rows)  # noqa: E731
    assert during and share(during) > 5 * share(before)


def test_traffic_reaches_the_end_of_the_range() -> None:
    # The demo's week ends now: its last hour must not be empty.
    times = generate_table(CONFIG)["timestamp"].to_pylist()
    span = CONFIG.end - CONFIG.start
    assert times[-1] > CONFIG.end - span / 100
    assert times[0] < CONFIG.start + span / 100
