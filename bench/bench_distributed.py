"""Issue 10's figures: distributed mode on a private nats-server, per process.

- **JetStream's own publish rate** for the same payloads (msgpack events, one
  message each with its ``Nats-Msg-Id``), published by one client, 4 batches
  of 500 in flight, acks pipelined: the limit of the log on this machine.
- **Ingest** throughput through 1 and 2 ``--role ingest`` processes (HTTP
  batches of 500 events, 4 concurrent requests per node).
- **Sink** throughput with 1 and 2 ``--role sink`` processes archiving the
  same backlog into a fresh Iceberg table (a shared SQLite catalog and local
  warehouse, so the figure is the sink's, not S3's), between the first and
  the last commit (from the snapshots' own times).
- **Freshness**: one event at a time to an ingest node, the time from its
  acknowledgement until a ``--role query`` node counts it (p50/p99).

Run: ``python -m bench.bench_distributed [--events N] [--samples K]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import msgspec
from pyiceberg.table import Table
from tests.support.nats import NATS_SERVER, NatsServer
from tests.support.server import ServerProcess, wait_for

from bench.common import percentile, save
from bench.ingest import seed_events, send_batches
from streamgauge.archive import ArchiveSettings
from streamgauge.archive.storage import open_catalog
from streamgauge.log.jetstream import JetStreamOptions, dedup_key
from streamgauge.log.jetstream_link import JetStreamLink, Message
from streamgauge.model import Event

BATCH = 500
CONCURRENCY = 4  # requests in flight per ingest node
PARTITIONS = 4
_LAG = re.compile(r'^streamgauge_sink_lag_events\{sink="archive-p\d+"\} ([0-9.e+]+)$', re.M)


def jetstream_publish_rate(options: JetStreamOptions, events: list[Event]) -> float:
    """Events/s of publishing the log's own messages straight to JetStream."""
    link = JetStreamLink(options.url, options.streams(), publish_timeout_s=30.0)
    try:
        link.wait_connected(10.0)
        encode = msgspec.msgpack.Encoder().encode
        messages = [
            Message(options.partition_subject(i % PARTITIONS), encode(e), f"limit/{dedup_key(e)}")
            for i, e in enumerate(events)
        ]
        chunks = [messages[i : i + BATCH] for i in range(0, len(messages), BATCH)]

        async def in_flight(group: list[list[Message]]) -> None:
            await asyncio.gather(*(link.publish(chunk) for chunk in group))

        started = time.perf_counter()
        for i in range(0, len(chunks), CONCURRENCY):  # as many batches in flight as ingest has
            link.call(in_flight(chunks[i : i + CONCURRENCY]), 60.0)
        return len(messages) / (time.perf_counter() - started)
    finally:
        link.close()


def ingest_rate(nodes: list[ServerProcess], events: int, prefix: str) -> float:
    """Events/s through ``nodes`` (each gets an equal share, sent at the same time)."""
    share = seed_events(events, prefix)
    bodies = [msgspec.json.encode(share[i : i + BATCH]) for i in range(0, events, BATCH)]

    async def all_nodes() -> float:
        started = time.perf_counter()
        await asyncio.gather(*(
            send_batches(f"{node.ingest_url}/events/batch", bodies[n :: len(nodes)],
                         "application/json", CONCURRENCY)
            for n, node in enumerate(nodes)
        ))  # fmt: skip
        return time.perf_counter() - started

    return events / asyncio.run(all_nodes())


def archive_lag(node: ServerProcess) -> float:
    text = httpx.get(f"{node.query_url}/metrics", timeout=5.0).text
    lags = [float(v) for v in _LAG.findall(text)]
    return sum(lags) if lags else float("inf")


def sink_rate(tmp: Path, env: dict[str, str], sinks: int, backlog: int) -> float:
    """Events/s of ``sinks`` sink processes archiving the stream's backlog."""
    shared = {
        **env,
        "STREAMGAUGE_ARCHIVE__CATALOG": f"sqlite:///{tmp}/catalog-{sinks}.db",
        "STREAMGAUGE_ARCHIVE__WAREHOUSE": str(tmp / f"warehouse-{sinks}"),
        "STREAMGAUGE_ARCHIVE__COMMIT_INTERVAL_S": "1",
        # Several commits per sink, so the rate is measured between commits.
        "STREAMGAUGE_ARCHIVE__COMMIT_MAX_EVENTS": "10000",
    }
    parts = [",".join(str(p) for p in range(PARTITIONS) if p % sinks == s) for s in range(sinks)]
    nodes = [
        ServerProcess(tmp / f"sink-{sinks}-{s}", env={
            **shared, "STREAMGAUGE_CLUSTER__SINK_PARTITIONS": parts[s],
        }, extra_args=["--role", "sink"])
        for s in range(sinks)
    ]  # fmt: skip
    with running(nodes):
        wait_for(lambda: all(archive_lag(n) == 0 for n in nodes), timeout=600, interval=0.05,
                 what="the sinks to archive the backlog")  # fmt: skip
    location = ArchiveSettings(
        catalog_uri=shared["STREAMGAUGE_ARCHIVE__CATALOG"],
        warehouse=shared["STREAMGAUGE_ARCHIVE__WAREHOUSE"],
    )
    table = open_catalog(location).load_table(("streamgauge", "events"))
    return committed_rate(table, backlog)


def committed_rate(table: Table, backlog: int) -> float:
    """Events/s between the first and the last commit, from the snapshots themselves.

    Process start-up (imports, catalog connection) and readiness polling are
    not the sinks' throughput: the clock starts at the first commit, and the
    events of that first commit are not counted.
    """
    snapshots = sorted(table.snapshots(), key=lambda s: s.timestamp_ms)
    added = [int(s.summary["added-records"] or 0) if s.summary else 0 for s in snapshots]
    if sum(added) != backlog:
        raise AssertionError(f"the archive holds {sum(added)} events, not {backlog}")
    seconds = (snapshots[-1].timestamp_ms - snapshots[0].timestamp_ms) / 1000
    return sum(added[1:]) / seconds if seconds > 0 else float("nan")


def freshness(ingest: ServerProcess, query: ServerProcess, samples: int) -> list[float]:
    """Seconds from an event's acknowledgement to its being counted by the query node."""
    window = {"start": "2001-01-01T00:00:00Z", "end": "2001-01-02T00:00:00Z", "groupBy": "day"}
    delays = []
    with httpx.Client(timeout=10.0) as http:
        for n in range(1, samples + 1):
            event = {"event": "fresh", "id": f"fresh-{n}", "timestamp": "2001-01-01T12:00:00Z"}
            assert http.post(f"{ingest.ingest_url}/events", json=event).status_code == 200
            acked = time.perf_counter()

            def visible(expected: int = n) -> bool:
                data = http.post(f"{query.query_url}/query", json=window).json()["data"]
                return sum(int(row["count"]) for row in data) >= expected

            wait_for(visible, timeout=30, interval=0.005, what="the event on the query node")
            delays.append(time.perf_counter() - acked)
    return delays


@contextmanager
def running(nodes: list[ServerProcess]) -> Iterator[list[ServerProcess]]:
    """Start ``nodes`` together; SIGKILL every one of them on the way out, whatever happens."""
    try:
        for node in nodes:
            node.start(wait=False)
        for node in nodes:
            node.wait_ready(120.0)
        yield nodes
    finally:
        for node in nodes:
            node.kill()


def run(events: int, samples: int) -> dict[str, Any]:
    if NATS_SERVER is None:
        raise SystemExit("nats-server is not installed (apt install nats-server)")
    results: dict[str, Any] = {"events": events, "batch": BATCH, "partitions": PARTITIONS}
    # Figures on a shared machine move with its load: record it, before and after.
    results["load_average_1m_before"] = round(os.getloadavg()[0], 1)
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        nats = NatsServer(tmp / "nats", binary=NATS_SERVER)
        try:
            nats.start()
            env = {"STREAMGAUGE_LOG__URL": nats.url,
                   "STREAMGAUGE_LOG__PARTITIONS": str(PARTITIONS)}  # fmt: skip
            options = JetStreamOptions(url=nats.url, partitions=PARTITIONS)
            sample = [Event(**e) for e in _canonical(seed_events(events, "limit"))]
            results["jetstream_publish_events_per_s"] = round(
                jetstream_publish_rate(options, sample)
            )
            for count in (1, 2):
                nodes = [
                    ServerProcess(
                        tmp / f"ingest-{count}-{i}", env=env, extra_args=["--role", "ingest"]
                    )
                    for i in range(count)
                ]
                with running(nodes):
                    rate = ingest_rate(nodes, events, f"ingest{count}")
                results[f"ingest_{count}_process_events_per_s"] = round(rate)
            backlog = 3 * events  # the stream holds the limit run's events and both ingest runs'
            for count in (1, 2):
                rate = sink_rate(tmp, env, count, backlog)
                results[f"sink_{count}_process_events_per_s"] = round(rate)
            ingest = ServerProcess(tmp / "fresh-ingest", env=env, extra_args=["--role", "ingest"])
            query = ServerProcess(tmp / "fresh-query", env=env, extra_args=["--role", "query"])
            with running([ingest, query]):
                wait_for(lambda: _hot_lag(query) == 0, timeout=600, interval=0.1,
                         what="the query node to catch up with the stream")  # fmt: skip
                delays = freshness(ingest, query, samples)
            results["freshness_p50_ms"] = round(percentile(delays, 50) * 1000, 1)
            results["freshness_p99_ms"] = round(percentile(delays, 99) * 1000, 1)
            results["freshness_max_ms"] = round(max(delays) * 1000, 1)
        finally:
            nats.kill()
    results["load_average_1m_after"] = round(os.getloadavg()[0], 1)
    return results


def _hot_lag(node: ServerProcess) -> float:
    text = httpx.get(f"{node.query_url}/metrics", timeout=5.0).text
    found = re.search(r'^streamgauge_sink_lag_events\{sink="hot"\} ([0-9.e+]+)$', text, re.M)
    return float(found.group(1)) if found else float("inf")


def _canonical(raw: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """The seed events as canonical Event fields (what an ingest node publishes)."""
    now = time.time_ns() // 1000
    for e in raw:
        yield {
            "project_id": "default", "event_id": e["id"], "event": e["event"],
            "timestamp": e["timestamp"] * 1000, "received_at": now, "user_id": e["userId"],
            "organization_id": e["organizationId"], "session_id": e["sessionId"],
            "duration_ms": e["performance"]["duration"],
            "status_code": e["performance"]["statusCode"],
            "method": e["properties"]["method"], "path": e["properties"]["route"],
            "source": "native", "properties": msgspec.json.encode(e["properties"]).decode(),
        }  # fmt: skip


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=30_000, help="events per run")
    parser.add_argument("--samples", type=int, default=30, help="freshness samples")
    args = parser.parse_args(argv)
    results = run(args.events, args.samples)
    path = save("distributed", results)
    print(msgspec.json.format(msgspec.json.encode(results)).decode())
    print(f"saved {path}", file=sys.stderr)
    return results


if __name__ == "__main__":
    main()
