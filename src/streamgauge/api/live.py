"""Live updates for the dashboard: hot-store commits and ingestion health as server-sent events.

One watcher thread per query app (named ``dashboard-live``, running only while
a stream is open) blocks on the hot sink's ``wait_committed`` and wakes the
event loop when the committed offset moves. Each ``GET /live`` stream then
sends a ``commit`` message carrying the new offset (coalesced: at most one per
``MIN_INTERVAL_S``), so the page re-asks the query API only when there is
something new to see. Ingestion health (accepted, rejected, duplicates, sink
lag) changes without commits too, so it is re-sent when it changes.

A stream ends after ``LIFETIME_S`` and the client reconnects at once (its
``hello`` tells whether it missed a commit): uvicorn's graceful shutdown waits
for open responses, so a server stopping with dashboards open waits at most
that long, not its 30 s grace period.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any, Final

import msgspec
from prometheus_client import Counter

from streamgauge.runtime import Runtime
from streamgauge.sinks.runner import SinkRunner
from streamgauge.types import Offset

MIN_INTERVAL_S: Final = 0.5
HEALTH_EVERY_S: Final = 2.0
LIFETIME_S: Final = 5.0
RETRY_MS: Final = 500
_WATCH_WAIT_S: Final = 1.0


class CommitWatcher:
    """Wakes asyncio waiters when the hot sink commits past an offset."""

    def __init__(self, runner: SinkRunner) -> None:
        self._runner = runner
        self._lock = threading.Lock()
        self._subscribers = 0
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._changed = asyncio.Event()

    def committed(self) -> Offset:
        return self._runner.sink.committed_offset()

    @contextmanager
    def subscribed(self) -> Iterator[None]:
        """Keep the watcher thread running while the caller listens."""
        with self._lock:
            self._loop = asyncio.get_running_loop()
            self._subscribers += 1
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._watch, name="dashboard-live", daemon=True
                )
                self._thread.start()
        try:
            yield
        finally:
            with self._lock:
                self._subscribers -= 1

    async def wait_beyond(self, offset: Offset, timeout: float) -> Offset:
        """The committed offset once it passes ``offset``, or when ``timeout`` passes."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.committed() <= offset:
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except TimeoutError:
                break
        return self.committed()

    def _watch(self) -> None:
        seen = self.committed()
        while True:
            with self._lock:
                if self._subscribers == 0:
                    self._thread = None
                    return
                loop = self._loop
            if self._runner.wait_committed(seen + 1, _WATCH_WAIT_S) and loop is not None:
                seen = self.committed()
                try:
                    loop.call_soon_threadsafe(self._publish)
                except RuntimeError:  # the loop closed: the server stopped under us
                    with self._lock:
                        self._thread = None
                    return

    def _publish(self) -> None:
        """On the loop: wake every waiter, and give later waiters a fresh event."""
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()


def _total(counter: Counter) -> int:
    return int(
        sum(
            sample.value
            for metric in counter.collect()
            for sample in metric.samples
            if sample.name.endswith("_total")
        )
    )


def ingestion_health(runtime: Runtime) -> dict[str, Any]:
    """Counters since the server started, and how far each sink is behind the log."""
    metrics = runtime.metrics
    return {
        "accepted": _total(metrics.accepted),
        "rejected": _total(metrics.rejected),
        "duplicates": _total(metrics.duplicates),
        "refused": _total(metrics.refused),
        "log_head": runtime.log.head(),
        "sinks": [
            {
                "name": runner.sink.name,
                "committed": runner.sink.committed_offset(),
                "lag_events": runner.lag_events(),
                "lag_seconds": round(runner.lag_seconds(), 3),
                "failures": runner.failure_count(),
            }
            for runner in runtime.runners
        ],
    }


def _message(kind: str, data: dict[str, Any], offset: Offset) -> bytes:
    return b"event: %s\nid: %d\ndata: %s\n\n" % (kind.encode(), offset, msgspec.json.encode(data))


async def live_stream(
    runtime: Runtime, watcher: CommitWatcher, *, health: bool
) -> AsyncIterator[bytes]:
    """The messages of one ``GET /live`` connection.

    The first (``hello``) carries the committed offset, so a reconnecting client
    sees at once whether it missed commits while it was away.
    """
    loop = asyncio.get_running_loop()
    ends_at = loop.time() + LIFETIME_S
    with watcher.subscribed():
        offset = watcher.committed()
        report = ingestion_health(runtime) if health else None
        yield b"retry: %d\n\n" % RETRY_MS
        yield _message("hello", {"offset": offset, "health": report}, offset)
        health_at = loop.time()
        while (remaining := ends_at - loop.time()) > 0:
            wait = min(remaining, HEALTH_EVERY_S - (loop.time() - health_at))
            committed = await watcher.wait_beyond(offset, max(wait, 0.0))
            fresh = ingestion_health(runtime) if health else None
            if committed > offset:
                offset = committed
                report, health_at = fresh, loop.time()
                yield _message("commit", {"offset": offset, "health": report}, offset)
                await asyncio.sleep(MIN_INTERVAL_S)  # coalesce bursts of commits
            elif loop.time() - health_at >= HEALTH_EVERY_S:
                health_at = loop.time()
                if fresh != report:
                    report = fresh
                    yield _message("health", {"offset": offset, "health": report}, offset)
                else:
                    yield b": keep-alive\n\n"
