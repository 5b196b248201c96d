"""Independent computations of query answers in plain Python (no SQL)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

WIDTH_MINUTES = {"minute": 1, "5m": 5, "15m": 15, "hour": 60}


def bucket(ts: datetime, granularity: str, tz: str) -> datetime:
    """The local-wall-clock bucket of ``ts`` as a UTC instant."""
    zone = ZoneInfo(tz)
    local = ts.astimezone(zone)
    if granularity in WIDTH_MINUTES:
        width = WIDTH_MINUTES[granularity]
        minutes = (local.hour * 60 + local.minute) % width
        return ts - timedelta(minutes=minutes, seconds=local.second, microseconds=local.microsecond)
    day = local.date()
    if granularity == "week":
        day -= timedelta(days=day.weekday())
    if granularity == "month":
        day = day.replace(day=1)
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)


def in_range(
    events: Iterable[dict[str, Any]], project: str, start: datetime, end: datetime
) -> list[dict[str, Any]]:
    return [e for e in events if e["project_id"] == project and start <= e["timestamp"] < end]


def prop(event: dict[str, Any], key: str) -> Any:
    return json.loads(event["properties"] or "{}").get(key)


def quantile(values: list[float], q: float) -> float:
    return float(np.quantile(np.array(values, dtype=float), q, method="linear"))


def close(actual: float | None, expected: float | None) -> bool:
    if actual is None or expected is None:
        return actual is expected
    return abs(actual - expected) <= 1e-9 * max(abs(expected), 1e-300) or actual == expected
