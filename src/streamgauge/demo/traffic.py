"""A seeded generator of realistic product traffic as canonical events.

Several projects, each with organizations, users and sessions; API requests
on method + route endpoints with log-normal latencies and a few errors; page
views and a signup → checkout funnel; ``usage.tracked`` events carrying a
SKU, unit and quantity; and an incident (an error spike and a latency
regression on one endpoint). The same seed gives the same events.

Columns are built with numpy and pyarrow so ten million events take seconds:
``generate_table`` returns an Arrow table with the canonical schema directly;
``generate_events`` wraps it in ``Event`` objects for small sets.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from streamgauge.model.event import Event, arrow_schema

# (method, route, median latency ms, log-normal sigma, share of 5xx)
ENDPOINTS: Final = (
    ("GET", "/api/users", 40.0, 0.5, 0.002),
    ("GET", "/api/users/{id}", 25.0, 0.4, 0.002),
    ("POST", "/api/users", 80.0, 0.6, 0.004),
    ("GET", "/api/orders", 60.0, 0.6, 0.003),
    ("POST", "/api/orders", 140.0, 0.7, 0.01),
    ("GET", "/api/search", 120.0, 0.9, 0.006),
    ("POST", "/api/ai/generate", 900.0, 0.8, 0.02),
    ("GET", "/health", 2.0, 0.3, 0.0),
)
_ENDPOINT_WEIGHTS: Final = (0.22, 0.2, 0.04, 0.14, 0.06, 0.16, 0.08, 0.1)
INCIDENT_ENDPOINT: Final = 4  # POST /api/orders degrades during the incident
EVENT_NAMES: Final = (
    "api.request",
    "page.view",
    "signup",
    "checkout.started",
    "checkout.completed",
    "usage.tracked",
)
_EVENT_WEIGHTS: Final = (0.62, 0.2, 0.03, 0.035, 0.015, 0.1)
SKUS: Final = (
    ("ai-text-generation", "tokens", 1500.0),
    ("storage", "gb-hours", 3.0),
    ("api-calls", "calls", 1.0),
)
REGIONS: Final = ("eu", "us", "apac")
PLANS: Final = ("free", "pro", "enterprise")
ERRORS_5XX: Final = ("upstream timeout", "database connection reset", "internal error")
_CLIENT_STATUSES: Final = (400, 401, 404, 429)
_HOURLY_SHAPE: Final = np.array(
    [
        0.3,
        0.25,
        0.2,
        0.2,
        0.25,
        0.35,
        0.55,
        0.8,
        1.0,
        1.1,
        1.15,
        1.2,
        1.15,
        1.1,
        1.1,
        1.15,
        1.1,
        1.0,
        0.9,
        0.8,
        0.7,
        0.6,
        0.5,
        0.4,
    ]
)
_US_PER_S: Final = 1_000_000


@dataclass(frozen=True, slots=True)
class TrafficConfig:
    """What to generate: ``events`` events with timestamps in ``[start, end)``."""

    start: datetime
    end: datetime
    events: int = 10_000
    seed: int = 7
    projects: int = 3
    organizations_per_project: int = 4
    users_per_organization: int = 25
    mean_events_per_session: float = 8.0
    incident: bool = True

    def project_ids(self) -> list[str]:
        return [f"proj_{i}" for i in range(self.projects)]

    def incident_window(self) -> tuple[datetime, datetime]:
        """The incident: an hour starting at 60% of the range (shorter ranges: 10% of it)."""
        span = self.end - self.start
        begin = self.start + span * 0.6
        return begin, begin + min(timedelta(hours=1), span * 0.1)


def _micros(value: datetime) -> int:
    return int(value.timestamp() * _US_PER_S)


def _session_starts(rng: np.random.Generator, count: int, start_us: int, end_us: int) -> np.ndarray:
    """Session start times following a daily traffic curve (UTC hours)."""
    hours = max(1, (end_us - start_us) // (3600 * _US_PER_S) + 1)
    weights = np.resize(_HOURLY_SHAPE, hours)
    hour_index = rng.choice(hours, size=count, p=weights / weights.sum())
    offsets = (hour_index * 3600 + rng.random(count) * 3600) * _US_PER_S
    return (start_us + offsets.astype(np.int64)).clip(start_us, end_us - 1)


def _strings(prefix: str, numbers: np.ndarray) -> pa.Array:
    """``prefix + number`` strings built in Arrow, not Python."""
    return pc.binary_join_element_wise(prefix, pc.cast(pa.array(numbers), pa.string()), "")


def _take(values: Sequence[str | None], index: np.ndarray) -> pa.Array:
    """``values[index]`` as a string array; index -1 picks the last value."""
    index = np.where(index < 0, len(values) - 1, index)
    return pc.take(pa.array(values, pa.string()), pa.array(index, pa.int32()))


def _properties(
    events: np.ndarray, endpoints: np.ndarray, regions: np.ndarray, plans: np.ndarray
) -> pa.Array:
    """JSON text from a dictionary of every (event, endpoint, region, plan) variant."""
    variants: list[str | None] = []
    for name in EVENT_NAMES:
        for method, route, *_ in ENDPOINTS:
            for region in REGIONS:
                for plan in PLANS:
                    body: dict[str, object] = {"region": region, "plan": plan}
                    if name == "api.request":
                        body |= {"method": method, "route": route}
                    elif name == "page.view":
                        body |= {"url": f"https://app.example.com{route.replace('/api', '')}"}
                    variants.append(json.dumps(body, separators=(",", ":")))
    index = ((events * len(ENDPOINTS) + endpoints) * len(REGIONS) + regions) * len(PLANS) + plans
    return _take(variants, index)


def _block(config: TrafficConfig, rng: np.random.Generator, wanted: int, first_id: int) -> pa.Table:
    start_us, end_us = _micros(config.start), _micros(config.end)
    sessions = max(1, int(wanted / config.mean_events_per_session * 1.15))
    per_session = rng.geometric(1.0 / config.mean_events_per_session, size=sessions)
    session_start = _session_starts(rng, sessions, start_us, end_us)
    orgs = config.projects * config.organizations_per_project
    session_org = rng.integers(0, orgs, size=sessions)
    session_user = (
        session_org * config.users_per_organization
        + rng.zipf(1.6, size=sessions).clip(1, config.users_per_organization)
        - 1
    )
    anonymous = rng.random(sessions) < 0.1
    n = int(per_session.sum())
    owner = np.repeat(np.arange(sessions), per_session)
    # Gaps between a session's events: exponential, mean 40 s.
    gaps = (rng.exponential(40.0, size=n) * _US_PER_S).astype(np.int64)
    first_of_session = np.concatenate(([0], np.cumsum(per_session)[:-1]))
    gaps[first_of_session] = 0
    cumulative = np.cumsum(gaps)
    timestamp = session_start[owner] + cumulative - cumulative[first_of_session][owner]
    keep = timestamp < end_us
    # Time order is how the hot store receives events, and what its zonemaps prune on;
    # every later per-event draw is independent, so drawing it in this order is free.
    order = np.argsort(timestamp[keep], kind="stable")
    owner, timestamp = owner[keep][order], timestamp[keep][order]
    n = len(owner)

    event = rng.choice(len(EVENT_NAMES), size=n, p=_EVENT_WEIGHTS)
    endpoint = rng.choice(len(ENDPOINTS), size=n, p=_ENDPOINT_WEIGHTS)
    region = session_org[owner] % len(REGIONS)
    plan = (session_org[owner] // len(REGIONS)) % len(PLANS)
    is_request = event == 0
    medians = np.array([e[2] for e in ENDPOINTS])[endpoint]
    sigmas = np.array([e[3] for e in ENDPOINTS])[endpoint]
    duration = np.round(medians * np.exp(rng.normal(0.0, 1.0, size=n) * sigmas), 3)
    error_share = np.array([e[4] for e in ENDPOINTS])[endpoint]
    if config.incident:
        begin, finish = (_micros(t) for t in config.incident_window())
        hit = (timestamp >= begin) & (timestamp < finish) & (endpoint == INCIDENT_ENDPOINT)
        duration = np.where(hit, duration * 4.0, duration)
        error_share = np.where(hit, 0.35, error_share)
    draw = rng.random(n)
    status = np.where(draw < error_share, np.array([500, 502, 503])[rng.integers(0, 3, n)], 200)
    client_error = (draw >= error_share) & (draw < error_share + 0.03)
    status = np.where(client_error, np.array(_CLIENT_STATUSES)[rng.integers(0, 4, n)], status)
    status = np.where(
        (status == 200) & (endpoint == 2) | (status == 200) & (endpoint == 4), 201, status
    )
    error_index = np.where(status >= 500, rng.integers(0, len(ERRORS_5XX), n), -1)

    sku = rng.integers(0, len(SKUS), size=n)
    is_usage = event == EVENT_NAMES.index("usage.tracked")
    base = np.array([s[2] for s in SKUS])[sku]
    quantity = np.where(sku == 2, 1.0, np.round(base * rng.lognormal(0.0, 0.6, n), 2))

    user_numbers = session_user[owner]
    anonymous_event = anonymous[owner]
    project = session_org[owner] // config.organizations_per_project
    columns: dict[str, pa.Array] = {
        "project_id": _take(config.project_ids(), project),
        "event_id": _strings(f"evt_{config.seed}_", np.arange(first_id, first_id + n)),
        "event": _take(list(EVENT_NAMES), event),
        "timestamp": pa.array(timestamp, pa.int64()),
        "received_at": pa.array(timestamp + rng.integers(2_000, 900_000, n), pa.int64()),
        "user_id": pc.if_else(
            pa.array(anonymous_event), pa.scalar(None, pa.string()), _strings("user_", user_numbers)
        ),
        "anonymous_id": pc.if_else(
            pa.array(anonymous_event),
            _strings("anon_", owner + first_id),
            pa.scalar(None, pa.string()),
        ),
        "session_id": _strings(f"sess_{config.seed}_", owner + first_id),
        "organization_id": _strings("org_", session_org[owner]),
        "duration_ms": pa.array(
            np.where(is_request, duration, np.nan), pa.float64(), from_pandas=True
        ),
        "status_code": pa.array(np.where(is_request, status, 0), pa.int32(), mask=~is_request),
        "error": _take([*ERRORS_5XX, None], np.where(is_request, error_index, -1)),
        "usage_quantity": pa.array(quantity, pa.float64(), mask=~is_usage),
        "usage_unit": _take([s[1] for s in SKUS] + [None], np.where(is_usage, sku, -1)),
        "usage_sku": _take([s[0] for s in SKUS] + [None], np.where(is_usage, sku, -1)),
        "method": _take([e[0] for e in ENDPOINTS] + [None], np.where(is_request, endpoint, -1)),
        "path": _take([e[1] for e in ENDPOINTS] + [None], np.where(is_request, endpoint, -1)),
        "source": _take(["native"], np.zeros(n, np.int64)),
        "properties": _properties(event, endpoint, region, plan),
        "context": _take(['{"library":{"name":"streamgauge-demo"}}'], np.zeros(n, np.int64)),
    }
    schema = arrow_schema()
    arrays = [
        columns[f.name].cast(f.type)
        if f.name not in ("timestamp", "received_at")
        else columns[f.name].cast(pa.timestamp("us")).cast(f.type)
        for f in schema
    ]
    return pa.Table.from_arrays(arrays, schema=schema)


def generate_table(config: TrafficConfig) -> pa.Table:
    """``config.events`` events (exactly) as an Arrow table, ordered by timestamp."""
    rng = np.random.default_rng(config.seed)
    blocks: list[pa.Table] = []
    have = next_id = 0
    while have < config.events:
        block = _block(config, rng, config.events - have, first_id=next_id)
        next_id += block.num_rows
        wanted = config.events - have
        if block.num_rows > wanted:
            # A uniform sample, not the first rows: those are the earliest (the block is in
            # time order), and cutting there would leave the end of the range empty.
            keep = np.sort(rng.choice(block.num_rows, size=wanted, replace=False))
            block = block.take(pa.array(keep))
        blocks.append(block)
        have += block.num_rows
    if len(blocks) == 1:
        return blocks[0]
    table = pa.concat_tables(blocks) if blocks else arrow_schema().empty_table()
    return table.sort_by("timestamp")


def generate_events(config: TrafficConfig) -> list[Event]:
    """The same events as ``generate_table``, as ``Event`` objects (for small sets)."""
    table = generate_table(config)
    for name in ("timestamp", "received_at"):
        position = table.schema.get_field_index(name)
        table = table.set_column(position, name, pc.cast(table[name], pa.int64()))
    return [Event(**row) for row in table.to_pylist()]
