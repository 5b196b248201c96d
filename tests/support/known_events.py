"""Known events in the native wire shape, and the numbers they must produce, computed here.

The dashboard tests send these events and check the page against numbers
computed independently of the query engine: counts, linear-interpolation
percentiles (the engine's ``quantile_cont``), error rates, distinct users.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

Wire = dict[str, Any]


def iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def request_event(
    at: datetime, org: str, user: str, duration: float, status: int = 200, route: str = "/api/x"
) -> Wire:
    error = "upstream timeout" if status >= 500 else None
    return {
        "id": str(uuid.uuid4()),
        "event": "api.request",
        "timestamp": iso(at),
        "userId": user,
        "organizationId": org,
        "sessionId": f"s-{user}",
        "properties": {"method": "GET", "route": route},
        "performance": {"duration": duration, "statusCode": status, "error": error},
    }


def usage_event(at: datetime, org: str, user: str, quantity: float, sku: str = "api-calls") -> Wire:
    return {
        "id": str(uuid.uuid4()),
        "event": "usage.tracked",
        "timestamp": iso(at),
        "userId": user,
        "organizationId": org,
        "usage": {"quantity": quantity, "unit": "calls", "sku": sku},
    }


def traffic(
    now: datetime, org: str, *, requests: int, users: int, minutes_ago: float
) -> list[Wire]:
    """``requests`` requests spread over a few minutes, every seventh a 500, and usage."""
    events: list[Wire] = []
    for i in range(requests):
        at = now - timedelta(minutes=minutes_ago) + timedelta(seconds=7 * i)
        status = 500 if i % 7 == 3 else 200
        events.append(request_event(at, org, f"{org}-u{i % users}", 10.0 + 13.5 * (i % 11), status))
        if i % 4 == 0:
            events.append(usage_event(at, org, f"{org}-u{i % users}", 1.0 + i % 3))
    return events


def ingest(
    ingest_url: str, events: Sequence[Wire], key: str | None = None, *, accepted: int | None = None
) -> None:
    """Send ``events`` in one batch; all of them (or ``accepted``) must be accepted."""
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    response = httpx.post(f"{ingest_url}/events/batch", json=list(events), headers=headers)
    assert response.status_code in (200, 201, 202), response.text
    wanted = len(events) if accepted is None else accepted
    assert response.json()["accepted"] == wanted, response.text


def _quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    rank = q * (len(ordered) - 1)
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def headline(
    events: Iterable[Wire],
    start: datetime,
    end: datetime,
    *,
    org: str | None = None,
    event: str | None = None,
) -> dict[str, Any]:
    """What the headline cards must show for ``[start, end)`` and the filters."""
    chosen = [
        e
        for e in events
        if start <= datetime.fromisoformat(e["timestamp"].replace("Z", "+00:00")) < end
        and (org is None or e.get("organizationId") == org)
        and (event is None or e["event"] == event)
    ]
    timed = [e["performance"] for e in chosen if "performance" in e]
    failed = [p for p in timed if p["statusCode"] >= 500 or p["error"] is not None]
    return {
        "requests": len(timed),
        "p95_ms": _quantile([p["duration"] for p in timed], 0.95),
        "error_rate": len(failed) / len(timed) if timed else None,
        "active_users": len({e["userId"] for e in chosen if e.get("userId")}),
        "usage_events": sum(1 for e in chosen if "usage" in e),
    }
