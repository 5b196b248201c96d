"""The bounded in-memory queue between the caller and the background sender.

``put`` never blocks: when full it drops the oldest event and counts it, because analytics
must not slow the application down, and the newest events are the most useful ones.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable

from streamgauge_client._types import Event


class EventQueue:
    def __init__(self, *, max_size: int, batch_size: int, on_batch_ready: Callable[[], None]):
        if max_size < 1 or batch_size < 1:
            raise ValueError("max_size and batch_size must be at least 1")
        self.max_size = max_size
        self.batch_size = batch_size
        self.dropped = 0
        self._events: deque[Event] = deque()
        self._lock = threading.Lock()
        self._on_batch_ready = on_batch_ready

    def put(self, event: Event) -> None:
        with self._lock:
            events = self._events
            if len(events) >= self.max_size:
                events.popleft()
                self.dropped += 1
            events.append(event)
            ready = len(events) == self.batch_size
        if ready:
            self._on_batch_ready()

    def take(self) -> list[Event]:
        """Up to ``batch_size`` of the oldest events, removed from the queue."""
        with self._lock:
            events = self._events
            count = min(len(events), self.batch_size)
            return [events.popleft() for _ in range(count)]

    def __len__(self) -> int:
        return len(self._events)

    def reset_after_fork(self) -> None:
        """A forked child starts with a fresh lock and without the parent's queued events."""
        self._lock = threading.Lock()
        self._events.clear()
