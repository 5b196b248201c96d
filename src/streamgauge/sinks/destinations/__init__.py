"""Extra destinations (``pipeline.destinations``): webhook, rolling files, NATS subject.

Each is its own sink with its own offset, run by a SinkRunner beside the hot
store and the archive, and left out of ingest back-pressure: a failing target
parks its batches in the dead-letter store instead of slowing ingestion.
"""

from __future__ import annotations

from pathlib import Path

from streamgauge.log.base import Log
from streamgauge.pipeline.config import (
    Destination,
    FilesDestination,
    NatsDestination,
    WebhookDestination,
)
from streamgauge.sinks.destinations.base import DestinationSink
from streamgauge.sinks.runner import SinkRunner


def open_destination(config: Destination, log: Log, data_dir: Path) -> DestinationSink:
    if isinstance(config, WebhookDestination):
        from streamgauge.sinks.destinations.webhook import WebhookSink

        return WebhookSink(config, log, data_dir)
    if isinstance(config, FilesDestination):
        from streamgauge.sinks.destinations.files import FilesSink

        return FilesSink(config, log, data_dir)
    if isinstance(config, NatsDestination):
        from streamgauge.sinks.destinations.nats import NatsSink

        return NatsSink(config, log, data_dir)
    raise TypeError(f"unknown destination type {type(config).__name__}")


def destination_runners(
    destinations: list[Destination], log: Log, data_dir: Path
) -> list[SinkRunner]:
    return [
        SinkRunner(open_destination(d, log, data_dir), log, batch_events=max(d.batch_events, 1000))
        for d in destinations
    ]


__all__ = ["DestinationSink", "destination_runners", "open_destination"]
