"""The scheduled upkeep of the embedded server: hot retention, then archive maintenance.

Runs on its own thread (``maintenance``) every ``archive.maintenance_interval_s``.
Hot retention first makes sure the archive has committed what it buffered,
then drops from the hot store the rows older than ``hot.retention_s`` that the
archive holds (see HotStore.move_to_archive). Archive maintenance (retention,
compaction, snapshot expiry, orphan removal) uses its own catalog session.
"""

from __future__ import annotations

import logging
import threading
import time

from prometheus_client import Counter

from streamgauge.archive import Archive, run_maintenance
from streamgauge.sinks.hot import HotStore
from streamgauge.sinks.runner import SinkRunner

logger = logging.getLogger("streamgauge.maintenance")


class Maintenance:
    """Hot retention and archive maintenance, on a schedule or on demand."""

    def __init__(
        self,
        hot: HotStore,
        archive_runner: SinkRunner,
        archive: Archive,
        *,
        hot_retention_s: float,
        interval_s: float,
        moved: Counter | None = None,
    ) -> None:
        self.hot = hot
        self.archive_runner = archive_runner
        self.archive = archive
        self.hot_retention_s = hot_retention_s
        self.interval_s = interval_s
        self.moved = moved
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._loop, name="maintenance", daemon=True)

    def start(self) -> None:
        if self.interval_s > 0:
            self._thread.start()

    def move_old_rows(self) -> int:
        """Hot retention now: rows older than the retention that the archive holds leave."""
        cutoff = time.time_ns() // 1000 - int(self.hot_retention_s * 1_000_000)
        archived = self.archive_runner.sink.committed_offset()
        moved = self.hot.move_to_archive(cutoff, archived)
        if self.moved is not None:
            self.moved.inc(moved)
        if moved:
            logger.info("moved %d events older than the hot retention to the archive tier", moved)
        return moved

    def run_once(self) -> None:
        with self._lock:
            self.archive_runner.request_flush()
            self.move_old_rows()
            report = run_maintenance(self.archive)
            logger.info("archive maintenance: %s", report)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.run_once()
            except Exception:  # the next round retries; the pipeline does not depend on it
                logger.exception("maintenance failed; it runs again in %.0f s", self.interval_s)

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(60)
