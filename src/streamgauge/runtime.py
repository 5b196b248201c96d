"""The embedded pipeline: every long-lived part, opened and closed in one place.

Threads that exist (named): ``log-writer`` (the only writer of the log),
``sink-<name>`` (one per sink: ``sink-hot``, ``sink-archive``), ``maintenance``
(hot retention and archive upkeep), ``dashboard-live`` (while a dashboard is open:
pushes commit notices), and the HTTP servers' event loop
on the main thread. Queries run on the event loop's default thread pool.
Shutdown order drains: HTTP stops taking requests, the log commits what it
queued, each sink consumes the log to its head and commits, then stores close.
"""

from __future__ import annotations

import logging
from pathlib import Path

from streamgauge.archive import Archive, ArchiveSettings, ArchiveSink
from streamgauge.cluster.query_tier import QueryRetention, query_archive
from streamgauge.cluster.roles import ALL_ROLES, archive_runners
from streamgauge.config import Settings
from streamgauge.ingest.backpressure import Backpressure
from streamgauge.ingest.ingestor import Ingestor
from streamgauge.keys import open_key_store
from streamgauge.log.factory import EventLog, open_log
from streamgauge.maintenance import Maintenance
from streamgauge.metrics import Metrics
from streamgauge.paths import DataPaths
from streamgauge.pipeline.columns import custom_columns
from streamgauge.pipeline.columns import register as register_columns
from streamgauge.query import RelationFor
from streamgauge.sinks.destinations import destination_runners
from streamgauge.sinks.hot import HotStore
from streamgauge.sinks.runner import SinkRunner
from streamgauge.tiers import TierPlanner

logger = logging.getLogger("streamgauge")


class Runtime:
    """Log, sinks, keys and metrics of one embedded server."""

    def __init__(
        self, data_dir: Path, settings: Settings, roles: frozenset[str] = ALL_ROLES
    ) -> None:
        self.settings = settings
        self.roles = roles
        self.paths = DataPaths(data_dir)
        data_dir.mkdir(parents=True, exist_ok=True)
        self.metrics = Metrics()
        self.keys = open_key_store(settings, self.paths.keys)
        self.log: EventLog = open_log(settings, self.paths.log)
        if self.log.truncated_at_start:
            logger.error(
                "the log's corrupt tail was truncated: %d entries", self.log.truncated_at_start
            )
        register_columns(custom_columns(settings.pipeline))  # before any store opens
        self.hot = HotStore(
            self.paths.hot, memory_limit=settings.hot.memory_limit, threads=settings.hot.threads
        )
        self.runners: list[SinkRunner] = []
        if "query" in roles:  # the hot store: embedded, or a query node's replica of the log
            self.runners.append(
                SinkRunner(
                    self.hot,
                    self.log,
                    batch_events=settings.hot.max_batch_events,
                    small_batch_events=settings.hot.small_batch_events,
                    linger_s=settings.hot.write_linger_s,
                )
            )
        self.archive: Archive | None = None
        self.maintenance: Maintenance | QueryRetention | None = None
        distributed = bool(settings.log.url) or roles != ALL_ROLES
        if "sink" in roles and distributed:
            self.runners += archive_runners(settings, self.log, data_dir)
        elif not distributed:
            self._embedded_archive(data_dir)
        tier = query_archive(settings, self.log, self.hot, data_dir) if "query" in roles else None
        if tier is not None and distributed:  # older ranges from the archive the sinks write
            self.archive, self.maintenance = tier
        # Extra destinations: not in self.runners, so no back-pressure on ingest (they park).
        self.destinations = (
            destination_runners(settings.pipeline.destinations, self.log, data_dir)
            if "sink" in roles
            else []
        )
        for runner in [*self.runners, *self.destinations]:
            self.metrics.watch_sink(
                runner.sink.name, runner.lag_events, runner.lag_seconds, runner.failure_count
            )
        self.metrics.log_head.set_function(self.log.head)
        planner = TierPlanner(self.hot, self.archive, offsets_match=not distributed)
        self.relation_for: RelationFor = planner.relation_for
        self.ingestor = Ingestor(self.log, settings, self.metrics)
        self.backpressure = Backpressure(
            settings.backpressure, settings.ingest, data_dir, self.max_sink_lag, self.metrics
        )
        self._started = False

    def _embedded_archive(self, data_dir: Path) -> None:
        """The archive sink beside the hot store, and the upkeep that moves rows between them."""
        location = ArchiveSettings.from_config(self.settings.archive)
        runner = SinkRunner(ArchiveSink(Archive(location, data_dir)), self.log)
        self.runners.append(runner)
        self.archive = Archive(location, data_dir)  # the planner's own catalog session
        self.maintenance = Maintenance(
            self.hot,
            runner,
            Archive(location, data_dir),
            hot_retention_s=self.settings.hot.retention_s,
            interval_s=self.settings.archive.maintenance_interval_s,
            moved=self.metrics.moved_to_archive,
        )

    def max_sink_lag(self) -> int:
        return max((r.lag_events() for r in self.runners), default=0)

    def wait_fresh(self, timeout: float = 1.0) -> bool:
        """Read-your-writes: wait until the hot store holds every event acknowledged so far.

        Bounded by ``timeout`` (guarantee 3 promises visibility within 1 s); under
        overload a query answers with what is committed rather than waiting longer.
        """
        return self.runners[0].wait_committed(self.log.head(), timeout)

    def start(self) -> None:
        for runner in [*self.runners, *self.destinations]:
            runner.start()
        if self.maintenance is not None:
            self.maintenance.start()
        self._started = True

    def refresh_stats(self) -> None:
        stats = self.log.stats()
        self.metrics.log_entries.set(stats["entries"])
        self.metrics.log_bytes.set(stats["bytes"])

    def close(self) -> None:
        """Drain: finish appends, let every sink catch up and commit, close stores."""
        if self.maintenance is not None:
            self.maintenance.stop()
        self.log.close()
        if self._started:
            for runner in self.destinations:
                runner.sink.interrupt()  # type: ignore[attr-defined]  # undelivered: next start
                runner.stop()
                runner.sink.close()
            for runner in self.runners:
                runner.stop()
        self.hot.close()
        self.keys.close()
