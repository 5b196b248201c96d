"""Export: the archived events of a half-open time range to Parquet, CSV or NDJSON.

Events are streamed from DuckDB's ``iceberg_scan`` (partition-pruned) in record
batches, so memory stays bounded whatever the range; ``progress`` is called
after each batch with (events written, events in the range). The file is
written beside the target and renamed into place when complete, so a crashed
export never leaves a truncated file under the requested name.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from streamgauge.archive.reading import attach_archive
from streamgauge.archive.table import Archive
from streamgauge.model import COLUMNS

ExportFormat = Literal["parquet", "csv", "ndjson"]
Progress = Callable[[int, int], None]
BATCH_EVENTS = 100_000
_TIMESTAMPS = frozenset(c.name for c in COLUMNS if c.sql_type == "TIMESTAMPTZ")
_JSON = frozenset(c.name for c in COLUMNS if c.sql_type == "JSON")


@dataclass(frozen=True, slots=True)
class ExportResult:
    """Where the export went and what it holds."""

    path: Path
    events: int
    bytes: int


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _ndjson_lines(batch: pa.RecordBatch) -> str:
    lines = []
    for row in batch.to_pylist():
        event: dict[str, Any] = {}
        for name, value in row.items():
            if name in _TIMESTAMPS:
                event[name] = _iso(value)
            elif name in _JSON and value is not None:
                event[name] = json.loads(value)
            else:
                event[name] = value
        lines.append(json.dumps(event, separators=(",", ":"), ensure_ascii=False))
    return "\n".join(lines) + "\n" if lines else ""


class _Writer:
    """One output format behind write(batch) / close()."""

    def __init__(self, fmt: ExportFormat, path: Path, schema: pa.Schema) -> None:
        self.fmt = fmt
        self._parquet = (
            pq.ParquetWriter(path, schema, compression="zstd") if fmt == "parquet" else None
        )
        self._csv = pacsv.CSVWriter(str(path), schema) if fmt == "csv" else None
        self._text = path.open("w", encoding="utf-8") if fmt == "ndjson" else None

    def write(self, batch: pa.RecordBatch) -> None:
        if self._parquet is not None:
            self._parquet.write_batch(batch)
        elif self._csv is not None:
            self._csv.write_batch(batch)
        elif self._text is not None:
            self._text.write(_ndjson_lines(batch))

    def close(self) -> None:
        for closable in (self._parquet, self._csv, self._text):
            if closable is not None:
                closable.close()


def export(
    archive: Archive,
    since: datetime,
    until: datetime,
    fmt: ExportFormat,
    output_path: Path | str,
    progress: Progress | None = None,
) -> ExportResult:
    """Write every archived event with ``since <= timestamp < until`` to ``output_path``."""
    if fmt not in ("parquet", "csv", "ndjson"):
        raise ValueError(f"unknown export format {fmt!r}")
    if since.tzinfo is None or until.tzinfo is None:
        raise ValueError("since and until must be timezone-aware")
    path = Path(output_path)
    partial = path.with_name(path.name + ".partial")
    con = duckdb.connect()
    try:
        relation = attach_archive(con, archive)
        where = "WHERE timestamp >= $since AND timestamp < $until"
        params = {"since": since, "until": until}
        row = con.execute(f"SELECT count(*) FROM {relation} {where}", params).fetchone()
        total = int(row[0]) if row else 0
        columns = ", ".join(f'"{c.name}"' for c in COLUMNS)
        query = f"SELECT {columns} FROM {relation} {where} ORDER BY timestamp, event_id"
        reader = con.execute(query, params).to_arrow_reader(BATCH_EVENTS)
        writer = _Writer(fmt, partial, reader.schema)
        written = 0
        try:
            for batch in reader:
                writer.write(batch)
                written += batch.num_rows
                if progress is not None:
                    progress(written, total)
        finally:
            writer.close()
        if progress is not None and written == 0:
            progress(0, total)
    finally:
        con.close()
    os.replace(partial, path)
    return ExportResult(path=path, events=written, bytes=path.stat().st_size)
