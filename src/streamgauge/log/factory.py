"""Which log a process opens: chosen by ``log.url``'s scheme, imported lazily.

Empty: the embedded SQLite log under the data directory. ``nats://`` or
``tls://``: the JetStream stream (nats-py is imported only then).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from streamgauge.config import Settings
from streamgauge.log.local import LocalLog

if TYPE_CHECKING:
    from streamgauge.log.jetstream import JetStreamLog

EventLog: TypeAlias = "LocalLog | JetStreamLog"


def open_log(settings: Settings, local_path: Path, *, name: str = "streamgauge") -> EventLog:
    """The log ``settings`` name: embedded at ``local_path`` or JetStream at ``log.url``."""
    if not settings.log.url:
        return LocalLog(
            local_path,
            dedup_window_s=settings.dedup.window_s,
            group_commit_max_events=settings.log.group_commit_max_events,
            retention_s=settings.log.retention_s,
            cache_mib=settings.log.cache_mib,
        )
    from streamgauge.log.jetstream import JetStreamLog, JetStreamOptions

    # Do not wait for the connection: ingest answers 503 until it is up.
    return JetStreamLog(JetStreamOptions.from_settings(settings.log), name=name)
