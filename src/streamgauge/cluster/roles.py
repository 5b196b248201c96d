"""Roles of a process in distributed mode: ``ingest``, ``sink``, ``query`` (or ``all``).

- **ingest**: the ingest app; appends go to JetStream. Stateless.
- **query**: the query app over a hot store it keeps itself, fed from the
  whole stream (``sink-hot``); freshness is the hot sink's (under a second).
  Ranges older than its hot retention come from the shared archive
  (``cluster.query_tier``).
- **sink**: the archive sinks of the partitions in ``cluster.sink_partitions``
  (``sink-archive-p<n>``), committing to the Iceberg table in the catalog.
  Serves ``/health``, ``/ready`` and ``/metrics`` on the query port.

``all`` (the default) is every role; with the embedded log it is exactly the
embedded server.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Final

import sqlalchemy.exc
from starlette.applications import Starlette

from streamgauge.archive import Archive, ArchiveSettings
from streamgauge.cluster.archive_sink import PartitionArchiveSink
from streamgauge.config import Settings
from streamgauge.errors import ConfigError
from streamgauge.log.factory import EventLog
from streamgauge.sinks.runner import SinkRunner

if TYPE_CHECKING:
    from streamgauge.runtime import Runtime

ROLES: Final = ("ingest", "sink", "query")
ALL_ROLES: Final = frozenset(ROLES)


def parse_roles(values: Iterable[str]) -> frozenset[str]:
    """``--role`` values (repeatable, ``all``) as a set of roles; none given = all."""
    roles: set[str] = set()
    for value in values:
        if value == "all":
            roles |= ALL_ROLES
        elif value in ROLES:
            roles.add(value)
        else:
            raise ConfigError(f"unknown role {value!r}: use ingest, sink, query or all")
    return frozenset(roles) or ALL_ROLES


def archive_settings(settings: Settings) -> ArchiveSettings:
    """Where the archive lives (``archive.*``): in distributed mode, a shared catalog."""
    return ArchiveSettings.from_config(settings.archive)


def sink_partitions(settings: Settings) -> list[int]:
    """The partitions this sink node archives (``cluster.sink_partitions``; empty = all)."""
    total = settings.log.partitions
    given = settings.cluster.sink_partitions
    partitions = sorted({int(p) for p in given.split(",")}) if given else list(range(total))
    if any(p >= total for p in partitions):
        raise ConfigError(
            f"cluster.sink_partitions names a partition >= log.partitions ({total})",
            details={"key": "cluster.sink_partitions"},
        )
    return partitions


def archive_runners(settings: Settings, log: EventLog, data_dir: Path) -> list[SinkRunner]:
    """One runner per partition this node archives, each on its own view of the stream."""
    from streamgauge.log.jetstream import JetStreamLog

    if not isinstance(log, JetStreamLog):
        raise ConfigError(
            "the sink role needs the distributed log: set log.url to nats://host:port",
            details={"key": "log.url"},
        )
    location, total = archive_settings(settings), settings.log.partitions
    # An Archive (catalog connection, table handle) per sink: each runs on its own thread.
    return [
        SinkRunner(
            PartitionArchiveSink(open_archive(location, data_dir), p, total),
            log.for_partition(p),
        )
        for p in sink_partitions(settings)
    ]


def open_archive(location: ArchiveSettings, data_dir: Path, attempts: int = 5) -> Archive:
    """Open the archive; sink nodes starting together race to create the catalog's tables.

    pyiceberg's SQL catalog creates its tables when absent, and on Postgres the
    loser of that race fails; a second attempt finds them.
    """
    for _ in range(attempts - 1):
        try:
            return Archive(location, data_dir)
        except sqlalchemy.exc.DBAPIError:
            continue
    return Archive(location, data_dir)


def operational_app(runtime: Runtime, ready: Callable[[], bool]) -> Starlette:
    """``/health``, ``/ready`` and ``/metrics`` alone, for nodes without the query role."""
    from streamgauge.http.common import operational_routes

    return Starlette(routes=operational_routes(runtime, ready))
