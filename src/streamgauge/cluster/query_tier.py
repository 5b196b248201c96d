"""A query node's two tiers: its own hot store and the archive every sink writes.

A query node feeds its hot store from the whole stream; it keeps
``hot.retention_s`` of it. Older rows leave the hot store once the archive
holds them, and the tier planner (``streamgauge.tiers``) reads ranges before
the hot store's boundary from the archive, through the shared catalog.

Which rows does the archive hold? Its offsets are per partition, a hot row
knows only its stream sequence. The **archived watermark** ``W`` is a sequence
such that every event at or before it is in the archive: for each partition,
the sequence of its first message after its archived offset, minus one (the
stream's last sequence when the partition has nothing pending); ``W`` is the
smallest of these. Rows at or before ``W`` and older than the retention leave
the hot store (``HotStore.move_to_archive``); later ones wait for the sinks.

Runs on its own thread (``maintenance``) every ``archive.maintenance_interval_s``.
Archive upkeep itself (compaction, expiry, orphans) is not a query node's job.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import nats
from nats.js.errors import NotFoundError

from streamgauge.archive import Archive, ArchiveSettings
from streamgauge.cluster.archive_sink import partition_offsets
from streamgauge.cluster.roles import open_archive
from streamgauge.config import Settings
from streamgauge.log.factory import EventLog
from streamgauge.log.jetstream import JetStreamLog
from streamgauge.log.jetstream_link import LogUnavailable
from streamgauge.sinks.hot import HotStore
from streamgauge.types import Offset

logger = logging.getLogger("streamgauge.maintenance")

_CALL_TIMEOUT_S = 10.0


def archived_watermark(log: JetStreamLog, archive: Archive) -> Offset:
    """The largest sequence at or before which the archive holds every event."""
    offsets = partition_offsets(archive.refresh(), log.options.partitions)
    return log.link.call(_watermark(log, offsets), _CALL_TIMEOUT_S)


async def _watermark(log: JetStreamLog, offsets: dict[int, Offset]) -> Offset:
    nc = log.link.nc
    if nc is None or not log.link.connected:
        raise LogUnavailable(f"the event log (JetStream) is unavailable: {log.link.last_error}")
    js = nc.jetstream()
    options = log.options
    try:
        last = int((await js.stream_info(options.stream)).state.last_seq)
        watermark = last
        for p in range(options.partitions):
            subject = options.partition_subject(p)
            try:
                pending = await js.get_msg(
                    options.stream, seq=offsets.get(p, 0) + 1, subject=subject, next=True
                )
            except NotFoundError:
                continue  # nothing of this partition after its offset
            watermark = min(watermark, int(pending.seq or 1) - 1)
        return watermark
    except (nats.errors.Error, OSError, TimeoutError) as error:
        raise LogUnavailable(f"JetStream could not say what is archived: {error}") from None


class QueryRetention:
    """Hot retention of a query node: old rows leave once the shared archive holds them."""

    def __init__(
        self,
        hot: HotStore,
        log: JetStreamLog,
        archive: Archive,
        *,
        hot_retention_s: float,
        interval_s: float,
    ) -> None:
        self.hot = hot
        self.log = log
        self.archive = archive
        self.hot_retention_s = hot_retention_s
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="maintenance", daemon=True)

    def start(self) -> None:
        if self.interval_s > 0:
            self._thread.start()

    def run_once(self) -> int:
        """Hot retention now; the number of rows that left the hot store."""
        cutoff = time.time_ns() // 1000 - int(self.hot_retention_s * 1_000_000)
        moved = self.hot.move_to_archive(cutoff, archived_watermark(self.log, self.archive))
        if moved:
            logger.info("%d events older than the hot retention are read from the archive", moved)
        return moved

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.run_once()
            except Exception:  # the next round retries; queries do not depend on it
                logger.exception("hot retention failed; it runs again in %.0f s", self.interval_s)

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(60)


def query_archive(
    settings: Settings, log: EventLog, hot: HotStore, data_dir: Path
) -> tuple[Archive, QueryRetention] | None:
    """The shared archive for a query node's planner, and its hot retention (None: no
    shared catalog configured, or not on the distributed log)."""
    if not settings.archive.catalog or not isinstance(log, JetStreamLog):
        return None
    location = ArchiveSettings.from_config(settings.archive)
    retention = QueryRetention(
        hot, log, open_archive(location, data_dir),
        hot_retention_s=settings.hot.retention_s,
        interval_s=settings.archive.maintenance_interval_s,
    )  # fmt: skip
    # The planner's own catalog session: an Archive is used by one thread at a time.
    return open_archive(location, data_dir), retention
