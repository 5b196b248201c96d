"""Refusing work the pipeline cannot take: sink lag, low disk, per-project rates.

Ingest answers 503 (or 429 for a project over its rate) with ``Retry-After``
instead of growing memory or disk without bound, so nothing acknowledged is
ever dropped later.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path

from streamgauge.config import BackpressureSettings, IngestSettings
from streamgauge.errors import Overloaded, RateLimited
from streamgauge.metrics import Metrics

_DISK_CHECK_EVERY_S = 1.0


class Backpressure:
    """The checks an ingest request passes before its body is even read."""

    def __init__(
        self,
        settings: BackpressureSettings,
        limits: IngestSettings,
        data_dir: Path,
        sink_lag: Callable[[], int],
        metrics: Metrics,
    ) -> None:
        self.settings = settings
        self.data_dir = data_dir
        self.sink_lag = sink_lag
        self.metrics = metrics
        self.rates = RateLimiter(limits.rate_limit_per_project, limits.rate_limit_burst)
        self._disk_checked = 0.0
        self._disk_low = False

    def check(self) -> None:
        lag = self.sink_lag()
        if lag > self.settings.max_sink_lag_events:
            self.metrics.refused.labels("sink_lag").inc()
            raise Overloaded(
                f"sinks are {lag} events behind (limit {self.settings.max_sink_lag_events}); "
                "retry after the Retry-After delay",
                retry_after=self.settings.retry_after_s,
            )
        if self._low_disk():
            self.metrics.refused.labels("disk").inc()
            raise Overloaded(
                f"less than {self.settings.min_free_disk_mib} MiB free on the data directory's "
                "disk; retry later",
                retry_after=max(self.settings.retry_after_s, 5.0),
            )

    def _low_disk(self) -> bool:
        now = time.monotonic()
        if now - self._disk_checked > _DISK_CHECK_EVERY_S:
            self._disk_checked = now
            free_mib = shutil.disk_usage(self.data_dir).free // (1024 * 1024)
            self._disk_low = free_mib < self.settings.min_free_disk_mib
        return self._disk_low

    def take(self, project_id: str, events: int) -> None:
        wait = self.rates.take(project_id, events)
        if wait > 0:
            self.metrics.refused.labels("rate_limit").inc()
            raise RateLimited(
                f"project {project_id!r} is over its rate limit of "
                f"{self.rates.rate:g} events/s; retry after {wait:.1f} s",
                retry_after=wait,
            )


class RateLimiter:
    """A token bucket per project; ``rate`` 0 means unlimited."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate = rate
        self.burst = burst
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str, amount: int) -> float:
        """Take ``amount`` tokens; 0 if granted, else the seconds until they would be."""
        if self.rate <= 0:
            return 0.0
        with self._lock:
            now = time.monotonic()
            tokens, stamp = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - stamp) * self.rate)
            if tokens >= amount:
                self._buckets[key] = (tokens - amount, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (amount - tokens) / self.rate
