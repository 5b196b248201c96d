"""The data every contender gets: the same events, built once per run.

Queries: ``events`` events of 30 days of demo traffic (three projects) in a
streamgauge hot store built with the server's own schema (``bench_query.load``),
exported from there to Parquet (for chdb) and CSV (for PostgreSQL's COPY), so
the three hold the very same rows. Ingest: the seed-shaped events of
``bench.ingest.seed_events`` in 1,000-event JSON and NDJSON batches.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.bench_query import load
from bench.compare.questions import PROJECT
from bench.ingest import seed_events
from streamgauge.keys import KeyStore
from streamgauge.paths import DataPaths
from streamgauge.scope import KeyScope

BATCH = 1000


@dataclass(frozen=True, slots=True)
class QueryData:
    data_dir: Path  # a streamgauge data directory whose hot store holds the events
    hot_store: Path
    parquet: Path
    csv: Path
    events: int
    read_key: str  # a read key of PROJECT for the server

    @classmethod
    def build(cls, workdir: Path, events: int) -> QueryData:
        data_dir = workdir / "data"
        hot_store = data_dir / "hot" / "hot.duckdb"
        parquet, csv = workdir / "events.parquet", workdir / "events.csv"
        con = load(hot_store, events)
        try:
            con.execute(f"COPY (SELECT * FROM events) TO '{parquet}' (FORMAT parquet)")
            con.execute("SET TimeZone = 'UTC'")
            con.execute(f"COPY (SELECT * FROM events) TO '{csv}' (FORMAT csv, HEADER false)")
        finally:
            con.close()
        keys = KeyStore(DataPaths(data_dir).keys)
        _, read_key = keys.create(PROJECT, KeyScope.READ)
        keys.close()
        return cls(data_dir, hot_store, parquet, csv, events, read_key)


@dataclass(frozen=True, slots=True)
class IngestData:
    """The same events as JSON-array and NDJSON bodies; NDJSON ids are fresh
    (prefixed ``n``), so a contender that deduplicates stores both."""

    json_bodies: list[bytes]
    ndjson_bodies: list[bytes]
    ndjson_file: Path  # every event once, for the engines' own JSON loaders
    events: int

    @classmethod
    def build(cls, workdir: Path, events: int) -> IngestData:
        plain = seed_events(events, "j")
        fresh = [{**event, "id": "n" + event["id"]} for event in plain]
        json_bodies = [json.dumps(plain[i : i + BATCH]).encode() for i in range(0, events, BATCH)]
        ndjson_bodies = [_ndjson(fresh[i : i + BATCH]) for i in range(0, events, BATCH)]
        ndjson_file = workdir / "events.ndjson"
        ndjson_file.write_bytes(b"\n".join(ndjson_bodies) + b"\n")
        return cls(json_bodies, ndjson_bodies, ndjson_file, events)


def _ndjson(events: list[dict[str, Any]]) -> bytes:
    return "\n".join(json.dumps(event) for event in events).encode()
