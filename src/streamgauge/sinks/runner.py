"""Runs a sink: reads the log from the sink's position, writes, reports progress.

One thread per sink (named ``sink-<name>``). A sink that fails is retried
with backoff from its position (what it committed or still buffers; a sink
that drops its buffer moves its position back); it never stops ingestion, whose only
tie to sinks is the back-pressure bound on their lag.
"""

from __future__ import annotations

import logging
import threading
import time

from streamgauge.log.base import Log
from streamgauge.sinks.base import Sink
from streamgauge.types import Offset

logger = logging.getLogger("streamgauge.sinks")

_IDLE_WAIT_S = 0.25
_MAX_BACKOFF_S = 30.0


class SinkRunner:
    """Feeds one sink from the log on its own thread."""

    def __init__(
        self,
        sink: Sink,
        log: Log,
        *,
        batch_events: int = 200_000,
        small_batch_events: int = 0,
        linger_s: float = 0.0,
    ) -> None:
        self.sink = sink
        self.log = log
        self.batch_events = batch_events
        self.small_batch_events = small_batch_events
        self.linger_s = linger_s
        self._urgent = threading.Event()
        self._flush_requested = threading.Event()
        self.failures = 0
        self.last_error: str | None = None
        self._last_event_received_at = 0
        self._stop = threading.Event()
        self._committed = threading.Condition()
        self._thread = threading.Thread(target=self._run, name=f"sink-{sink.name}", daemon=True)

    def start(self) -> None:
        register = getattr(self.log, "register_sink", None)
        if register is not None:
            register(self.sink.name, self.sink.committed_offset())
        self._thread.start()

    def request_flush(self, timeout: float = 120.0) -> bool:
        """Ask the sink to commit what it buffers now; True once it has (within ``timeout``)."""
        target = self.sink.position()
        self._flush_requested.set()
        self._urgent.set()
        return self.wait_committed(target, timeout)

    def failure_count(self) -> int:
        return self.failures

    def wait_committed(self, offset: Offset, timeout: float) -> bool:
        """Block until the sink has committed ``offset`` (or ``timeout`` passes)."""
        if self.sink.committed_offset() >= offset:
            return True
        self._urgent.set()
        with self._committed:
            return self._committed.wait_for(lambda: self.sink.committed_offset() >= offset, timeout)

    def lag_events(self) -> int:
        return max(0, self.log.head() - self.sink.committed_offset())

    def lag_seconds(self) -> float:
        """Age of the oldest event the sink has not committed (0 when caught up)."""
        if self.lag_events() == 0:
            return 0.0
        return max(0.0, time.time() - self._last_event_received_at / 1e6)

    def _run(self) -> None:
        backoff = 0.1
        position = self.sink.position()
        while not self._stop.is_set():
            try:
                position = self._step(position)
                backoff = 0.1
            except Exception as error:
                self.failures += 1
                self.last_error = f"{type(error).__name__}: {error}"
                logger.exception("sink %s failed; retrying from its position", self.sink.name)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, _MAX_BACKOFF_S)
                # Not the committed offset: a buffering sink still holds what it took since,
                # and a re-read batch reaching past its position would be taken twice.
                position = self.sink.position()
        self._finish(position)

    def _step(self, position: Offset) -> Offset:
        table, last = self.log.read_table(position, self.batch_events)
        if table is not None:
            self._last_event_received_at = table.column("received_at")[-1].value
            self.sink.write(table, last)
            position = last
        if self.sink.wants_flush() or self._flush_requested.is_set():
            self._flush_requested.clear()
            self.sink.flush()
        committed = self.sink.committed_offset()
        self.log.report_progress(self.sink.name, committed)
        with self._committed:
            self._committed.notify_all()
        if table is not None and table.num_rows < self.small_batch_events:
            # Many tiny transactions cost more than they buy: gather for a moment,
            # unless a query is waiting for these rows (see wait_committed).
            self._urgent.wait(self.linger_s)
            self._urgent.clear()
        if table is None and not self.log.wait_beyond(position, _IDLE_WAIT_S):
            refresh = getattr(self.log, "refresh_head", None)
            if refresh is not None:
                refresh()
        return position

    def _finish(self, position: Offset) -> None:
        """On shutdown: drain what the log holds, then commit buffered events."""
        try:
            while True:
                table, last = self.log.read_table(position, self.batch_events)
                if table is None:
                    break
                self.sink.write(table, last)
                position = last
            self.sink.flush()
        except Exception:
            logger.exception(
                "sink %s could not drain at shutdown; it resumes at next start", self.sink.name
            )

    def stop(self, timeout: float = 60.0) -> None:
        self._stop.set()
        self._urgent.set()
        self._thread.join(timeout)
