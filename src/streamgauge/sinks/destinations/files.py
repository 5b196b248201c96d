"""Rolling files destination: NDJSON or Parquet, one file per roll.

Events are buffered and written as one file when ``rotate_events`` are held or
``rotate_s`` passed: ``<name>-<first offset>-<last offset>.<ext>``, written to a
temporary name, fsync'd and renamed, then the offset is committed. A crash in
between writes the same file (same name, same events) again.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import msgspec
import pyarrow as pa
import pyarrow.parquet as pq

from streamgauge.log.base import Log
from streamgauge.model import Event, events_to_arrow
from streamgauge.pipeline.config import FilesDestination
from streamgauge.sinks.destinations.base import DestinationSink, event_json
from streamgauge.types import Offset


class FilesSink(DestinationSink):
    def __init__(self, config: FilesDestination, log: Log, data_dir: Path) -> None:
        super().__init__(config, log, data_dir)
        self.files = config
        default = data_dir / "destinations" / config.name
        self.directory = Path(config.directory) if config.directory else default
        self.directory.mkdir(parents=True, exist_ok=True)
        self._buffer: list[Event] = []
        self._position = self._committed
        self._first = self._committed
        self._started: float | None = None

    def position(self) -> Offset:
        return self._position

    def write(self, events: pa.Table, last_offset: Offset) -> None:
        if last_offset <= self._position:
            return
        self._buffer += self.routed(events)
        self._position = last_offset
        if self._started is None:
            self._started = time.monotonic()

    def wants_flush(self) -> bool:
        if self._position == self._committed:
            return False
        started = self._started
        old = started is not None and time.monotonic() - started >= self.files.rotate_s
        return old or len(self._buffer) >= self.files.rotate_events

    def flush(self) -> None:
        if self._position == self._committed:
            return
        if self._buffer:
            self.deliver_with_retries(self._buffer)
        self._buffer = []
        self._commit(self._position)
        self._first, self._started = self._position, None

    def deliver(self, batch: list[Event]) -> None:
        extension = self.files.format
        name = f"{self.files.name}-{self._first + 1:012d}-{self._position:012d}.{extension}"
        target = self.directory / name
        temporary = target.with_suffix(".tmp")
        if extension == "parquet":
            pq.write_table(events_to_arrow(batch), temporary, compression="zstd")
        else:
            encoder = msgspec.json.Encoder()
            with temporary.open("wb") as out:
                for event in batch:
                    out.write(encoder.encode(event_json(event)) + b"\n")
        with temporary.open("rb") as written:
            os.fsync(written.fileno())
        temporary.replace(target)

    def close(self) -> None:
        self._buffer = []
        self._position = self._committed
