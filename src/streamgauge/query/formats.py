"""Output formats: one result rendered as json, csv, ndjson, parquet or arrow.

``pick_format`` chooses from ``?format=`` first, then the ``Accept`` header
(q-values honoured), defaulting to JSON. Times are ISO-8601 UTC with ``Z`` in
the text formats and ``timestamp[us, UTC]`` in the binary ones.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import datetime
from typing import Any, Final

import msgspec
import pyarrow as pa
import pyarrow.parquet as pq

from streamgauge.errors import ValidationFailed

from .result import QueryResult
from .timerange import format_instant

MEDIA_TYPES: Final[dict[str, str]] = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "ndjson": "application/x-ndjson",
    "parquet": "application/vnd.apache.parquet",
    "arrow": "application/vnd.apache.arrow.stream",
}
_BY_MEDIA: Final = {
    "application/json": "json",
    "text/csv": "csv",
    "application/x-ndjson": "ndjson",
    "application/ndjson": "ndjson",
    "application/jsonl": "ndjson",
    "application/vnd.apache.parquet": "parquet",
    "application/x-parquet": "parquet",
    "application/vnd.apache.arrow.stream": "arrow",
    "application/vnd.apache.arrow.file": "arrow",
}


def _encode_extra(value: Any) -> Any:
    raise TypeError(f"cannot encode {type(value).__name__}")


_json = msgspec.json.Encoder(enc_hook=_encode_extra)


def _render_json(result: QueryResult) -> bytes:
    return _json.encode(result.response())


def _render_ndjson(result: QueryResult) -> bytes:
    return b"".join(_json.encode(row) + b"\n" for row in result.rows)


def _csv_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_instant(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _render_csv(result: QueryResult) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    names = [c.name for c in result.columns]
    writer.writerow(names)
    for row in result.rows:
        writer.writerow([_csv_value(row[name]) for name in names])
    return buffer.getvalue().encode()


def _render_parquet(result: QueryResult) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(result.to_arrow(), sink)
    return bytes(sink.getvalue().to_pybytes())


def _render_arrow(result: QueryResult) -> bytes:
    table = result.to_arrow()
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue().to_pybytes())


_RENDERERS: Final[dict[str, Callable[[QueryResult], bytes]]] = {
    "json": _render_json,
    "csv": _render_csv,
    "ndjson": _render_ndjson,
    "parquet": _render_parquet,
    "arrow": _render_arrow,
}


def render(result: QueryResult, fmt: str) -> tuple[bytes, str]:
    """``(body, media type)`` of ``result`` in ``fmt``."""
    if fmt not in _RENDERERS:
        raise ValidationFailed(
            f"format: {fmt!r} is not a format; use one of {', '.join(_RENDERERS)}",
            details={"field": "format"},
        )
    return _RENDERERS[fmt](result), MEDIA_TYPES[fmt]


def pick_format(query_format: str | None, accept: str | None) -> str:
    """The format asked for by ``?format=`` or, failing that, ``Accept``."""
    if query_format:
        if query_format not in _RENDERERS:
            render(QueryResult([], []), query_format)  # raises the uniform error
        return query_format
    if not accept:
        return "json"
    choices: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept.split(",")):
        media, *options = (piece.strip() for piece in part.split(";"))
        quality = 1.0
        for option in options:
            if option.startswith("q="):
                try:
                    quality = float(option[2:])
                except ValueError:
                    quality = 0.0
        fmt = _BY_MEDIA.get(media.lower())
        if media in ("*/*", "application/*"):
            fmt = "json"
        if fmt is not None and quality > 0:
            choices.append((-quality, position, fmt))
    return min(choices)[2] if choices else "json"
