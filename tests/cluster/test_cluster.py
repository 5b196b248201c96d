"""A whole cluster in one test: 2 ingest, 2 sink, 1 query process, NATS, Postgres, S3.

Clients send to both ingest nodes and retry across them; meanwhile each kind
of process is killed with SIGKILL and restarted, and so is nats-server (on the
same store). Every acknowledged event must end up exactly once in the Iceberg
table (read through the Postgres catalog from S3) and in the query node's answers.
"""

from __future__ import annotations

import itertools
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyarrow.fs as pafs
import pytest
from pyiceberg.catalog.sql import SqlCatalog

from streamgauge.archive import ArchiveSettings
from streamgauge.archive.storage import open_catalog
from streamgauge.cluster.archive_sink import partition_offsets
from streamgauge.cluster.status import ClusterStatus, cluster_status
from streamgauge.log.jetstream import JetStreamOptions
from tests.archive import swift
from tests.conftest import require_binary
from tests.support.nats import NATS_SERVER, NatsServer
from tests.support.postgres import private_schema
from tests.support.server import ServerProcess, wait_for

pytestmark = [pytest.mark.service, pytest.mark.slow]

QUERY = {"start": "2025-10-03T00:00:00Z", "end": "2025-10-04T00:00:00Z", "groupBy": "day"}


@pytest.fixture
def catalog_uri() -> Iterator[str]:
    """A Postgres schema of its own: the catalog tables of this test only."""
    with private_schema() as url:
        yield url


@pytest.fixture
def nats(tmp_path: Path) -> Iterator[NatsServer]:
    server = NatsServer(tmp_path / "nats", binary=require_binary("nats-server", NATS_SERVER))
    try:
        yield server.start()
    finally:  # also when start() itself failed after launching the process
        server.kill()


def bucket(endpoint: str) -> str:
    name = f"sg{uuid.uuid4().hex[:10]}"
    fs = pafs.S3FileSystem(
        access_key=swift.ACCESS_KEY, secret_key=swift.SECRET_KEY, scheme="http",
        endpoint_override=endpoint.removeprefix("http://"), force_virtual_addressing=False,
        allow_bucket_creation=True,
    )  # fmt: skip
    fs.create_dir(name)
    return name


class Cluster:
    def __init__(self, tmp: Path, nats: NatsServer, catalog: str, s3: str) -> None:
        env = {
            "STREAMGAUGE_LOG__URL": nats.url,
            "STREAMGAUGE_LOG__PARTITIONS": "4",
            "STREAMGAUGE_LOG__PUBLISH_TIMEOUT_S": "2",
            "STREAMGAUGE_ARCHIVE__CATALOG": catalog,
            "STREAMGAUGE_ARCHIVE__WAREHOUSE": f"s3://{bucket(s3)}/warehouse",
            "STREAMGAUGE_ARCHIVE__S3_ENDPOINT": s3,
            "STREAMGAUGE_ARCHIVE__S3_ACCESS_KEY_ID": swift.ACCESS_KEY,
            "STREAMGAUGE_ARCHIVE__S3_SECRET_ACCESS_KEY": swift.SECRET_KEY,
            # Four partition sinks commit to one table; on two shared cores a commit to
            # Swift takes seconds and commits every second mostly conflict and retry.
            "STREAMGAUGE_ARCHIVE__COMMIT_INTERVAL_S": "2",
        }
        self.env = env

        def node(name: str, role: str, **more: str) -> ServerProcess:
            return ServerProcess(tmp / name, env={**env, **more}, extra_args=["--role", role])

        self.ingest = [node("ingest-a", "ingest"), node("ingest-b", "ingest")]
        self.sinks = [
            node("sink-a", "sink", STREAMGAUGE_CLUSTER__SINK_PARTITIONS="0,1"),
            node("sink-b", "sink", STREAMGAUGE_CLUSTER__SINK_PARTITIONS="2,3"),
        ]
        self.query = node("query", "query")
        self.nodes = [*self.ingest, *self.sinks, self.query]

    def status(self, catalog: SqlCatalog) -> ClusterStatus:
        options = JetStreamOptions(url=self.env["STREAMGAUGE_LOG__URL"], partitions=4)
        table = catalog.load_table(("streamgauge", "events"))
        return cluster_status(options, table, [n.query_url for n in self.nodes])

    def archive_settings(self) -> ArchiveSettings:
        env = self.env
        return ArchiveSettings(
            catalog_uri=env["STREAMGAUGE_ARCHIVE__CATALOG"],
            warehouse=env["STREAMGAUGE_ARCHIVE__WAREHOUSE"],
            s3_endpoint=env["STREAMGAUGE_ARCHIVE__S3_ENDPOINT"],
            s3_access_key_id=swift.ACCESS_KEY,
            s3_secret_access_key=swift.SECRET_KEY,
        )


class Clients:
    """Threads sending batches round-robin to the ingest nodes, retrying across them."""

    def __init__(self, cluster: Cluster, threads: int = 2) -> None:
        self.cluster = cluster
        self.acked: set[str] = set()
        self.refusals = 0
        self._stop = threading.Event()
        self._ids = itertools.count()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run) for _ in range(threads)]

    def __enter__(self) -> Clients:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(60)

    def _run(self) -> None:
        nodes = itertools.cycle(self.cluster.ingest)
        with httpx.Client(timeout=5.0) as http:
            while not self._stop.is_set():
                with self._lock:
                    ids = [f"c{next(self._ids)}" for _ in range(20)]
                batch = [
                    {"event": "page", "id": i, "timestamp": "2025-10-03T08:00:00Z"} for i in ids
                ]
                while not self._stop.is_set() or batch:  # a started batch is sent until acked
                    node = next(nodes)
                    try:
                        reply = http.post(f"{node.ingest_url}/events/batch", json=batch)
                    except httpx.HTTPError:
                        continue
                    if reply.status_code == 200:
                        with self._lock:
                            self.acked.update(ids)
                        batch = []
                        break
                    assert reply.status_code == 503, reply.text
                    with self._lock:
                        self.refusals += 1

    def wait_acked(self, more_than: int) -> None:
        wait_for(lambda: len(self.acked) > more_than, timeout=60.0, what=f"> {more_than} acks")


def archived_ids(catalog: SqlCatalog) -> list[str]:
    table = catalog.load_table(("streamgauge", "events"))
    column = table.scan(selected_fields=("event_id",)).to_arrow().column("event_id")
    return [str(event_id) for event_id in column.to_pylist()]


def query_count(node: ServerProcess) -> int:
    data = httpx.post(f"{node.query_url}/query", json=QUERY, timeout=5.0).json()["data"]
    return sum(row["count"] for row in data)


def test_every_acknowledged_event_exactly_once_through_crashes_of_every_kind(
    tmp_path: Path, nats: NatsServer, catalog_uri: str, s3_endpoint: str
) -> None:
    cluster = Cluster(tmp_path, nats, catalog_uri, s3_endpoint)
    for node in cluster.nodes:
        node.start(wait=False)
    try:
        for node in cluster.nodes:
            node.wait_ready(60.0)
        with Clients(cluster) as clients:
            for victim in (cluster.ingest[0], cluster.sinks[0], cluster.query):
                clients.wait_acked(len(clients.acked) + 200)
                victim.kill()
                clients.wait_acked(len(clients.acked) + 200)
                victim.start()
            nats.kill()
            refused = httpx.post(
                f"{cluster.ingest[1].ingest_url}/events",
                json={"event": "x", "id": "during-outage"}, timeout=10.0,
            )  # fmt: skip
            assert refused.status_code == 503 and "Retry-After" in refused.headers
            nats.start()
            clients.wait_acked(len(clients.acked) + 400)  # recovered by itself
        acked = clients.acked
        assert clients.refusals > 0
        catalog = open_catalog(cluster.archive_settings())

        def archived_all() -> bool:
            return len(archived_ids(catalog)) >= len(acked)

        try:
            wait_for(archived_all, timeout=90.0, what="the archive to hold every acked event")
        except AssertionError as error:
            raise AssertionError(f"{error}\n{cluster.status(catalog)}") from None
        ids = archived_ids(catalog)
        assert len(ids) == len(set(ids)) and set(ids) >= acked
        assert set(ids) - acked <= {"during-outage"} | unacked_but_sent(ids, acked)
        wait_for(lambda: query_count(cluster.query) == len(ids), timeout=30.0,
                 what="the query node to count every archived event")  # fmt: skip
        offsets = partition_offsets(catalog.load_table(("streamgauge", "events")), 4)
        assert sorted(offsets) == [0, 1, 2, 3]
        status = cluster.status(catalog)  # what `streamgauge cluster status` shows
        assert [p.lag_messages for p in status.partitions] == [0, 0, 0, 0]
        assert [p.archived_offset for p in status.partitions] == [offsets[p] for p in range(4)]
        assert all(p.last_commit_snapshot is not None for p in status.partitions)
        assert [n.ready for n in status.nodes] == [True] * 5
        assert status.nodes[-1].sink_lag == {"hot": 0.0}
    finally:
        for node in cluster.nodes:
            node.kill()


def unacked_but_sent(ids: list[str], acked: set[str]) -> set[str]:
    """Batches whose answer was lost (node killed after JetStream stored them): stored, not
    acknowledged; clients retried them elsewhere, so they are in ``acked`` too, or were
    the last batch of a stopping client."""
    return {i for i in ids if i not in acked and i.startswith("c")}
