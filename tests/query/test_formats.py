"""One result in every output format, and the format chosen from ?format= or Accept."""

from __future__ import annotations

import io
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from streamgauge.errors import ValidationFailed
from streamgauge.query import pick_format, render, run_query

from .conftest import NOW

BODY = {
    "start": "2025-10-25T00:00:00Z",
    "end": "2025-10-25T03:00:00Z",
    "groupBy": "hour",
    "metrics": ["count", "avg(duration_ms)"],
    "fill": True,
}


@pytest.fixture
def result(con, principal):
    return run_query(con, principal, BODY, now=NOW)


def test_json(result) -> None:
    body, media = render(result, "json")
    decoded = json.loads(body)
    assert media == "application/json"
    assert decoded["data"][0]["time"] == "2025-10-25T00:00:00Z"
    assert decoded["columns"][0] == {"name": "time", "type": "timestamp"}
    assert decoded["meta"]["rows"] == 3 and decoded["meta"]["tiers"] == ["hot"]


def test_csv_and_ndjson(result) -> None:
    csv_body, media = render(result, "csv")
    lines = csv_body.decode().splitlines()
    assert media.startswith("text/csv") and lines[0] == "time,count,avg(duration_ms)"
    assert lines[1].startswith(f"2025-10-25T00:00:00Z,{result.rows[0]['count']},")
    ndjson, _ = render(result, "ndjson")
    assert [json.loads(line)["count"] for line in ndjson.splitlines()] == [
        r["count"] for r in result.rows
    ]


def test_parquet_and_arrow_keep_types(result) -> None:
    table = pq.read_table(io.BytesIO(render(result, "parquet")[0]))
    assert table.schema.field("time").type == pa.timestamp("us", tz="UTC")
    assert table.column("count").to_pylist() == [r["count"] for r in result.rows]
    stream = pa.ipc.open_stream(render(result, "arrow")[0]).read_all()
    assert stream.equals(table)


@pytest.mark.parametrize(
    ("query", "accept", "chosen"),
    [
        (None, None, "json"),
        ("csv", "application/json", "csv"),
        (None, "text/csv", "csv"),
        (None, "application/vnd.apache.parquet;q=0.5, application/x-ndjson;q=0.9", "ndjson"),
        (None, "text/html, */*;q=0.1", "json"),
        (None, "application/vnd.apache.arrow.stream", "arrow"),
    ],
)
def test_pick_format(query, accept, chosen) -> None:
    assert pick_format(query, accept) == chosen


def test_unknown_format_is_a_400() -> None:
    with pytest.raises(ValidationFailed, match="format: 'xml'"):
        pick_format("xml", None)
