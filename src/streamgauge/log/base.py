"""The Log interface every implementation keeps.

An append resolves only once its events are durable; the dedup check
(project + event id within the window) happens in the same transaction, so an
id is marked seen exactly when its event is durable. Rejected events travel
with the append so the dead-letter store is durable on the same terms.
"""

from __future__ import annotations

import abc
import asyncio
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field

import pyarrow as pa

from streamgauge.model import Event, events_to_arrow
from streamgauge.types import Offset


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A rejected event: its raw payload, where it came from and why."""

    project_id: str
    received_at: int  # µs since the epoch
    source: str
    field: str
    reason: str
    payload: bytes


@dataclass(slots=True)
class AppendResult:
    """What became of an append: the indexes (into the appended events) that were duplicates."""

    accepted: int
    duplicate_indexes: list[int] = field(default_factory=list)
    last_offset: Offset = 0


class Log(abc.ABC):
    """Durable, ordered, replayable storage of canonical events."""

    @abc.abstractmethod
    def append(
        self,
        events: list[Event],
        dead_letters: Sequence[DeadLetter] = (),
    ) -> Future[AppendResult]:
        """Append ``events`` minus duplicates, store ``dead_letters``; resolves once durable."""

    async def append_async(
        self, events: list[Event], dead_letters: Sequence[DeadLetter] = ()
    ) -> AppendResult:
        """``append`` awaited from an event loop."""
        return await asyncio.wrap_future(self.append(events, dead_letters))

    @abc.abstractmethod
    def read(self, after: Offset, limit: int) -> tuple[list[Event], Offset]:
        """About ``limit`` events after ``after`` (whole entries), and the last offset read."""

    def read_table(self, after: Offset, limit: int) -> tuple[pa.Table | None, Offset]:
        """Like ``read``, as one Arrow table (None when there is nothing new)."""
        events, last = self.read(after, limit)
        return (events_to_arrow(events) if events else None), last

    @abc.abstractmethod
    def head(self) -> Offset:
        """The offset of the newest durable event (0 when empty)."""

    @abc.abstractmethod
    def wait_beyond(self, offset: Offset, timeout: float) -> bool:
        """Block until the head passes ``offset`` or ``timeout`` seconds pass; True if it did."""

    @abc.abstractmethod
    def report_progress(self, sink: str, offset: Offset) -> None:
        """A sink has durably committed everything up to ``offset``: older entries may go."""

    @abc.abstractmethod
    def close(self) -> None:
        """Finish pending appends, then release the log."""
