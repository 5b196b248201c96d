"""What every extra destination shares: routing, its own offset file, retries and parking.

A destination is a Sink (run by a SinkRunner like the hot store) whose target
is not transactional, so its offset lives beside it in
``<data-dir>/destinations/<name>.offset`` (written atomically after the
delivery it covers): a crash between the two delivers again, at least once,
with each event's ``event_id`` for dedup downstream. A delivery that keeps
failing is parked in the dead-letter store after ``max_attempts`` tries, so a
dead target bounds its own lag instead of holding back ingestion or other sinks.
"""

from __future__ import annotations

import abc
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
import pyarrow as pa

from streamgauge.log.base import DeadLetter, Log
from streamgauge.model import Event
from streamgauge.pipeline.config import Destination
from streamgauge.pipeline.draft import Draft, compile_condition
from streamgauge.sinks.base import Sink
from streamgauge.types import Offset

logger = logging.getLogger("streamgauge.destinations")

_TIMESTAMPS = ("timestamp", "received_at")


class Interrupted(Exception):
    """The server is stopping: the batch is delivered again at next start."""


class TerminalFailure(Exception):
    """The target refused the batch for good (retrying the same cannot help)."""


class OffsetFile:
    """One integer, replaced atomically (write, fsync, rename)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)

    def read(self) -> Offset:
        try:
            return int(json.loads(self.path.read_text())["offset"])
        except FileNotFoundError:
            return 0

    def write(self, offset: Offset) -> None:
        temporary = self.path.with_suffix(".tmp")
        with temporary.open("w") as out:
            out.write(json.dumps({"offset": offset}))
            out.flush()
            os.fsync(out.fileno())
        temporary.replace(self.path)


def table_events(table: pa.Table) -> list[Event]:
    """Canonical Arrow rows back to Events (times as µs integers)."""
    for name in _TIMESTAMPS:
        index = table.schema.get_field_index(name)
        table = table.set_column(index, name, table.column(name).cast(pa.int64()))
    return [Event(**row) for row in table.to_pylist()]


def event_json(event: Event) -> dict[str, Any]:
    """The JSON shape destinations send: named columns, ISO-8601 times, JSON kept as JSON."""
    row = msgspec.structs.asdict(event)
    for name in _TIMESTAMPS:
        row[name] = _iso(row[name])
    for name in ("properties", "context"):
        if row[name] is not None:
            row[name] = msgspec.Raw(row[name].encode())
    return row


def _iso(micros: int) -> str:
    seconds, rest = divmod(micros, 1_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{rest:06d}Z"


class DestinationSink(Sink):
    """Routes events, delivers them in batches with retries, commits its offset after."""

    def __init__(self, config: Destination, log: Log, data_dir: Path) -> None:
        self.config = config
        self.name = f"destination-{config.name}"
        self.log = log
        self.data_dir = data_dir
        self.offsets = OffsetFile(data_dir / "destinations" / f"{config.name}.offset")
        self._committed = self.offsets.read()
        self._route = compile_condition(config.route)
        self._stopping = threading.Event()
        self.delivered = 0
        self.parked = 0
        self.sleep: Callable[[float], bool] = self._stopping.wait

    def committed_offset(self) -> Offset:
        return self._committed

    def interrupt(self) -> None:
        """Stop retrying: the server is shutting down (undelivered batches come again)."""
        self._stopping.set()

    def routed(self, table: pa.Table) -> list[Event]:
        events = table_events(table)
        if self._route is None:
            return events
        route = self._route
        return [e for e in events if route(Draft(e))]

    def write(self, events: pa.Table, last_offset: Offset) -> None:
        if last_offset <= self._committed:
            return
        chosen = self.routed(events)
        size = self.config.batch_events
        for start in range(0, len(chosen), size):
            self.deliver_with_retries(chosen[start : start + size])
        self._commit(last_offset)

    def _commit(self, offset: Offset) -> None:
        self.offsets.write(offset)
        self._committed = offset

    def deliver_with_retries(self, batch: list[Event]) -> None:
        delay = self.config.backoff_s
        error: Exception | None = None
        for attempt in range(1, self.config.max_attempts + 1):
            if self._stopping.is_set():
                raise Interrupted(self.name)
            try:
                self.deliver(batch)
            except TerminalFailure as refused:
                error = refused
                break
            except Exception as failure:  # a target down or slow: try again after a pause
                error = failure
                logger.warning("%s: attempt %d failed: %s", self.name, attempt, failure)
                if attempt < self.config.max_attempts and self.sleep(delay):
                    raise Interrupted(self.name) from None
                delay = min(delay * 2, self.config.max_backoff_s)
            else:
                self.delivered += len(batch)
                return
        self.park(batch, f"{type(error).__name__}: {error}")

    def park(self, batch: list[Event], reason: str) -> None:
        """Keep the batch in the dead-letter store (one letter per event) and move on."""
        now = time.time_ns() // 1000
        letters = [
            DeadLetter(
                e.project_id, now, self.name, "",
                f"{self.name}: not delivered after {self.config.max_attempts} tries: {reason}",
                msgspec.json.encode(event_json(e)),
            )
            for e in batch
        ]  # fmt: skip
        self.log.append([], letters).result()
        self.parked += len(batch)
        logger.error(
            "%s: parked %d events in the dead-letter store: %s", self.name, len(batch), reason
        )

    @abc.abstractmethod
    def deliver(self, batch: list[Event]) -> None:
        """Send ``batch``; return only once the target has it. Raise to retry."""
