"""The sink runner: after a failed flush, a buffering sink's events are taken once."""

from __future__ import annotations

import threading
from concurrent.futures import Future
from typing import Any

import pyarrow as pa

from streamgauge.log.base import AppendResult, Log
from streamgauge.sinks.base import Sink
from streamgauge.sinks.runner import SinkRunner
from streamgauge.types import Offset
from tests.support.server import wait_for


class GrowingLog(Log):
    """Offsets 1..head, one row each; ``read_table`` returns everything after ``after``."""

    def __init__(self) -> None:
        self.head_offset = 0
        self.lock = threading.Lock()

    def grow(self, count: int) -> None:
        with self.lock:
            self.head_offset += count

    def read_table(self, after: Offset, limit: int) -> tuple[pa.Table | None, Offset]:
        with self.lock:
            head = self.head_offset
        if head <= after:
            return None, after
        offsets = list(range(after + 1, head + 1))
        return pa.table(
            {"offset": offsets, "received_at": pa.array(offsets, pa.timestamp("us"))}
        ), head

    def read(self, after: Offset, limit: int) -> tuple[list[Any], Offset]:
        raise NotImplementedError

    def append(self, events: list[Any], dead_letters: Any = ()) -> Future[AppendResult]:
        raise NotImplementedError

    def head(self) -> Offset:
        return self.head_offset

    def wait_beyond(self, offset: Offset, timeout: float) -> bool:
        return self.head_offset > offset

    def report_progress(self, sink: str, offset: Offset) -> None:
        pass

    def close(self) -> None:
        pass


class FlakyBufferingSink(Sink):
    """Buffers; its first flush fails after the log has grown (a lost commit race)."""

    name = "flaky"

    def __init__(self, log: GrowingLog) -> None:
        self.log = log
        self.buffer: list[int] = []
        self.committed: list[int] = []
        self._position = 0
        self._committed = 0
        self.flushes = 0

    def committed_offset(self) -> Offset:
        return self._committed

    def position(self) -> Offset:
        return self._position

    def write(self, events: pa.Table, last_offset: Offset) -> None:
        if last_offset <= self._position:
            return
        self.buffer += events.column("offset").to_pylist()
        self._position = last_offset

    def wants_flush(self) -> bool:
        return bool(self.buffer)

    def flush(self) -> None:
        self.flushes += 1
        if self.flushes == 1:
            self.log.grow(5)  # more arrives while the commit fails
            raise RuntimeError("commit failed")
        self.committed += self.buffer
        self.buffer.clear()
        self._committed = self._position


def test_a_failed_flush_does_not_take_the_buffered_events_twice() -> None:
    log = GrowingLog()
    log.grow(10)
    sink = FlakyBufferingSink(log)
    runner = SinkRunner(sink, log)
    runner.start()
    try:
        wait_for(lambda: sink.committed_offset() == 15, timeout=10.0, what="offset 15 committed")
    finally:
        runner.stop()
    assert sink.committed == list(range(1, 16))
