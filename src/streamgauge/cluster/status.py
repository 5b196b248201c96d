"""The state of a distributed deployment, read from the systems it shares.

- **Stream**: JetStream's own numbers (messages, bytes, last sequence).
- **Partitions**: each partition's archived offset (the Iceberg snapshot
  summary, ``streamgauge.jetstream-offset.<n>``), the snapshot that last moved
  it (the last commit of that partition's sink) and the lag: messages of the
  partition after the offset, counted by JetStream (``num_pending`` of a
  short-lived consumer positioned at the offset).
- **Nodes**: each node's ``/ready`` and its ``streamgauge_sink_lag_events``
  from ``/metrics`` (query nodes report their hot sink, sink nodes their
  archive sinks).

Read-only: nothing here changes the stream, the table or a node.
"""

from __future__ import annotations

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
import nats
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from pyiceberg.table import Table

from streamgauge.cluster.archive_sink import OFFSET_PREFIX
from streamgauge.log.jetstream import JetStreamOptions
from streamgauge.types import Offset

_SINK_LAG = re.compile(r'^streamgauge_sink_lag_events\{sink="([^"]+)"\} ([0-9.e+-]+)$', re.M)
_TIMEOUT_S = 5.0


@dataclass(frozen=True, slots=True)
class StreamState:
    name: str
    messages: int
    bytes: int
    last_seq: int
    consumers: int


@dataclass(frozen=True, slots=True)
class PartitionState:
    partition: int
    sink: str
    archived_offset: Offset
    lag_messages: int | None  # None: the stream could not say
    last_commit_at: str | None  # ISO-8601 of the snapshot that last moved the offset
    last_commit_snapshot: int | None


@dataclass(frozen=True, slots=True)
class NodeState:
    url: str
    ready: bool
    detail: str
    sink_lag: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ClusterStatus:
    stream: StreamState | None
    stream_error: str | None
    partitions: list[PartitionState]
    nodes: list[NodeState]


@dataclass(frozen=True, slots=True)
class Commit:
    offset: Offset
    snapshot_id: int
    at: str


def last_commits(table: Table, partitions: int) -> dict[int, Commit]:
    """Per partition: its offset now, and the snapshot that set it (walking back)."""
    found: dict[int, Commit] = {}
    metadata = table.metadata
    snapshot = metadata.current_snapshot()
    while snapshot is not None:
        summary = snapshot.summary
        properties = summary.additional_properties if summary is not None else {}
        at = datetime.fromtimestamp(snapshot.timestamp_ms / 1000, UTC).isoformat()
        for p in range(partitions):
            value = properties.get(f"{OFFSET_PREFIX}{p}")
            if value is None:
                continue
            known = found.get(p)
            if known is None or known.offset == int(value):  # an older snapshot, same offset
                found[p] = Commit(int(value), snapshot.snapshot_id, at)
        parent = snapshot.parent_snapshot_id
        snapshot = metadata.snapshot_by_id(parent) if parent is not None else None
    return found


async def _stream_state(
    options: JetStreamOptions, offsets: dict[int, Offset]
) -> tuple[StreamState, dict[int, int]]:
    nc = await nats.connect(servers=[options.url], connect_timeout=2, allow_reconnect=False)
    try:
        js = nc.jetstream(timeout=_TIMEOUT_S)
        info = await js.stream_info(options.stream)
        state = StreamState(
            options.stream, int(info.state.messages), int(info.state.bytes),
            int(info.state.last_seq), int(info.state.consumer_count),
        )  # fmt: skip
        lags: dict[int, int] = {}
        for p in range(options.partitions):
            lags[p] = await _pending_after(js, options, p, offsets.get(p, 0))
        return state, lags
    finally:
        await nc.close()


async def _pending_after(
    js: nats.js.JetStreamContext, options: JetStreamOptions, partition: int, offset: Offset
) -> int:
    config = ConsumerConfig(
        ack_policy=AckPolicy.NONE,
        deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
        opt_start_seq=offset + 1,
        filter_subject=options.partition_subject(partition),
        inactive_threshold=5.0,
        mem_storage=True,
        num_replicas=1,
    )
    info = await js.add_consumer(options.stream, config)
    try:
        return int(info.num_pending or 0)
    finally:
        await js.delete_consumer(options.stream, info.name or "")


def node_state(url: str, http: httpx.Client) -> NodeState:
    """``/ready`` and the sink lags in ``/metrics`` of one node (either port of it)."""
    base = url.rstrip("/")
    try:
        ready = http.get(f"{base}/ready")
        metrics = http.get(f"{base}/metrics")
    except httpx.HTTPError as error:
        return NodeState(url, False, f"unreachable: {type(error).__name__}")
    lags = {name: float(value) for name, value in _SINK_LAG.findall(metrics.text)}
    detail = "ready" if ready.status_code == 200 else f"/ready answered {ready.status_code}"
    return NodeState(url, ready.status_code == 200, detail, lags)


def _partition(
    p: int, offsets: dict[int, Offset], lags: dict[int, int], commits: dict[int, Commit]
) -> PartitionState:
    commit = commits.get(p)
    return PartitionState(
        p, f"archive-p{p}", offsets.get(p, 0), lags.get(p),
        commit.at if commit else None, commit.snapshot_id if commit else None,
    )  # fmt: skip


def cluster_status(
    options: JetStreamOptions, table: Table | None, node_urls: list[str]
) -> ClusterStatus:
    """Stream, partitions (with the archive ``table`` when given) and nodes, read now."""
    commits = last_commits(table, options.partitions) if table is not None else {}
    offsets = {p: commit.offset for p, commit in commits.items()}
    stream: StreamState | None = None
    stream_error: str | None = None
    lags: dict[int, int] = {}
    try:
        # A thread of its own: the caller may already run an event loop (a test's browser,
        # an embedding app), and asyncio.run refuses to start inside one.
        with ThreadPoolExecutor(1, thread_name_prefix="cluster-status") as pool:
            work = asyncio.wait_for(_stream_state(options, offsets), 15.0)
            stream, lags = pool.submit(asyncio.run, work).result()
    except (nats.errors.Error, OSError, TimeoutError) as error:
        stream_error = f"{type(error).__name__}: {error}"
    partitions = [_partition(p, offsets, lags, commits) for p in range(options.partitions)]
    with httpx.Client(timeout=_TIMEOUT_S) as http:
        nodes = [node_state(url, http) for url in node_urls]
    return ClusterStatus(stream, stream_error, partitions, nodes)
