"""``streamgauge demo``: a fresh data directory filled with a seeded week of traffic.

The events go through the real path — appended to the log, consumed by every
sink runner — so each tier holds them exactly as if clients had sent them;
no file is written behind the log's back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

import duckdb
import msgspec

from streamgauge.config import Settings
from streamgauge.errors import StreamgaugeError
from streamgauge.model import Event
from streamgauge.runtime import Runtime

from .traffic import TrafficConfig, generate_events

BATCH_EVENTS: Final = 5_000
CATCH_UP_TIMEOUT_S: Final = 300.0


class DemoRefused(StreamgaugeError):
    """The data directory is not fresh, or a server is using it."""

    status = 409


@dataclass(frozen=True, slots=True)
class DemoPlan:
    """What to generate, and the instant (now) from which generated events are dropped."""

    traffic: TrafficConfig
    until: datetime


@dataclass(frozen=True, slots=True)
class DemoSummary:
    events: int
    start: datetime
    end: datetime
    project: str
    organizations: int
    incident_start: datetime
    incident_end: datetime


def demo_plan(
    *, events: int, days: float, seed: int, organizations: int, now: datetime | None = None
) -> DemoPlan:
    """About ``events`` events of one project over the ``days`` before ``now``, with an incident.

    The generator's daily curve starts at its range's first hour, and its last, partial
    hour piles sessions onto the range's final instant. So the range starts at a UTC
    midnight (the curve then follows UTC hours) and runs an hour past ``now``; that hour
    is dropped.
    """
    until = (now or datetime.now(UTC)).replace(microsecond=0)
    start = (until - timedelta(days=days)).replace(hour=0, minute=0, second=0)
    stop = until + timedelta(hours=1)
    scale = (stop - start) / (until - start)
    traffic = TrafficConfig(
        start=start,
        end=stop,
        events=round(events * scale),
        seed=seed,
        projects=1,
        organizations_per_project=organizations,
    )
    return DemoPlan(traffic, until)


def _open_fresh(data_dir: Path, settings: Settings) -> Runtime:
    try:
        runtime = Runtime(data_dir, settings)
    except duckdb.IOException as error:
        raise DemoRefused(
            f"{data_dir} is in use (is `streamgauge serve` running on it? stop it first): {error}"
        ) from None
    if runtime.log.head() > 0:
        runtime.close()
        raise DemoRefused(
            f"{data_dir} already holds events; the demo fills a fresh data directory only "
            "(use another --data-dir)"
        )
    return runtime


def load_demo(
    data_dir: Path,
    settings: Settings,
    plan: DemoPlan,
    *,
    project: str = "default",
    progress: Callable[[int], None] = lambda appended: None,
) -> DemoSummary:
    """Append the generated events to the log in batches and wait until the sinks hold them."""
    runtime = _open_fresh(data_dir, settings)
    try:
        runtime.start()
        until_us = int(plan.until.timestamp() * 1_000_000)
        events = [
            msgspec.structs.replace(event, project_id=project)
            for event in generate_events(plan.traffic)
            if event.timestamp < until_us
        ]
        pending = []
        for first in range(0, len(events), BATCH_EVENTS):
            batch: list[Event] = events[first : first + BATCH_EVENTS]
            pending.append(runtime.log.append(batch))
            if len(pending) > 4:
                progress(pending.pop(0).result().accepted)
        for future in pending:
            progress(future.result().accepted)
        head = runtime.log.head()
        for runner in runtime.runners:
            if not runner.wait_committed(head, CATCH_UP_TIMEOUT_S):
                raise StreamgaugeError(
                    f"the {runner.sink.name} sink did not catch up within {CATCH_UP_TIMEOUT_S}s"
                    + (f": {runner.last_error}" if runner.last_error else "")
                )
    finally:
        runtime.close()
    incident_start, incident_end = plan.traffic.incident_window()
    return DemoSummary(
        events=len(events),
        start=plan.traffic.start,
        end=plan.until,
        project=project,
        organizations=plan.traffic.organizations_per_project,
        incident_start=incident_start,
        incident_end=incident_end,
    )
