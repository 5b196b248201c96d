"""The query behaviour of embedded mode, against a distributed deployment.

One ingest, one sink and one query process on a private nats-server, sharing
an Iceberg catalog (SQLite here: the catalog kind does not matter to queries;
the Postgres + S3 path is tests/cluster/test_cluster.py). The integration
suite's query checks run unchanged against it (imported below: one suite, two
modes), then what only distributed mode has: the query node answers ranges
older than its hot retention from the archive the sink nodes write.

Hot retention keeps everything from 2025 on, so the integration checks (2025
dates) read the hot store; 2024 is archive-only.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from tests.conftest import require_binary
from tests.integration.test_ingest_http import (
    test_partial_batch_accepts_valid_and_reports_invalid_by_index,
    test_seed_query_example_counts_per_hour,
)
from tests.support.nats import NATS_SERVER, NatsServer
from tests.support.server import ServerProcess, wait_for

pytestmark = [pytest.mark.service]

__all__ = [  # the integration checks this module runs against the distributed deployment
    "test_partial_batch_accepts_valid_and_reports_invalid_by_index",
    "test_seed_query_example_counts_per_hour",
]

HOT_FROM = datetime(2025, 1, 1, tzinfo=UTC)


class Deployment:
    """Ingest on one node, queries on another: what the integration checks need of a server."""

    def __init__(self, ingest: ServerProcess, query: ServerProcess) -> None:
        self.ingest_url = ingest.ingest_url
        self.query_url = query.query_url


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    tmp = tmp_path_factory.mktemp("distributed")
    nats = NatsServer(tmp / "nats", binary=require_binary("nats-server", NATS_SERVER))
    retention = time.time() - HOT_FROM.timestamp()
    env = {
        "STREAMGAUGE_LOG__URL": nats.url,
        "STREAMGAUGE_ARCHIVE__CATALOG": f"sqlite:///{tmp}/catalog.db",
        "STREAMGAUGE_ARCHIVE__WAREHOUSE": str(tmp / "warehouse"),
        "STREAMGAUGE_ARCHIVE__COMMIT_INTERVAL_S": "0.3",
        "STREAMGAUGE_ARCHIVE__MAINTENANCE_INTERVAL_S": "0.5",
        "STREAMGAUGE_HOT__RETENTION_S": f"{retention:.0f}",
    }
    nodes = [
        ServerProcess(tmp / role, env=env, extra_args=["--role", role])
        for role in ("ingest", "sink", "query")
    ]
    try:
        nats.start()
        for node in nodes:
            node.start(wait=False)
        for node in nodes:
            node.wait_ready(120.0)
        yield Deployment(nodes[0], nodes[2])
    finally:
        for node in nodes:
            node.kill()
        nats.kill()


@pytest.fixture
def server(deployment: Deployment) -> Deployment:
    """The integration checks' ``server``: here, the distributed deployment."""
    return deployment


def test_acknowledged_events_are_queryable_on_the_query_node_within_5_s(
    deployment: Deployment,
) -> None:
    body = {"start": "2025-11-02T00:00:00Z", "end": "2025-11-03T00:00:00Z", "groupBy": "day"}
    for n in range(1, 6):
        event = {"event": "f", "timestamp": "2025-11-02T08:00:00Z", "id": f"fresh-{n}"}
        assert httpx.post(f"{deployment.ingest_url}/events", json=event).status_code == 200

        def visible(expected: int = n) -> bool:
            data = httpx.post(f"{deployment.query_url}/query", json=body).json()["data"]
            return sum(row["count"] for row in data) == expected

        wait_for(visible, timeout=5.0, interval=0.01, what=f"event {n} on the query node")


def test_ranges_older_than_the_hot_retention_come_from_the_archive(
    deployment: Deployment,
) -> None:
    old = [{"event": "t", "id": f"old-{i}", "timestamp": f"2024-06-0{1 + i % 3}T10:00:00Z",
            "performance": {"duration": float(i)}} for i in range(30)]  # fmt: skip
    recent = [{"event": "t", "id": f"new-{i}", "timestamp": "2025-10-10T10:00:00Z",
               "performance": {"duration": 100.0 + i}} for i in range(20)]  # fmt: skip
    reply = httpx.post(f"{deployment.ingest_url}/events/batch", json=old + recent)
    assert reply.json()["accepted"] == 50
    only_t = [{"field": "event", "op": "eq", "value": "t"}]
    both = {"start": "2024-05-01T00:00:00Z", "end": "2025-11-01T00:00:00Z", "groupBy": "none",
            "metrics": ["count", "max(duration_ms)"], "filters": only_t}  # fmt: skip

    def from_both_tiers() -> bool:
        # Until a sink commits them, 2024's events are in neither tier's range (the
        # planner reads rows before the hot boundary from the archive only).
        answer = httpx.post(f"{deployment.query_url}/query", json=both).json()
        return answer["meta"]["tiers"] == ["archive", "hot"] and answer["data"] == [
            {"count": 50, "max(duration_ms)": 119.0}
        ]

    wait_for(from_both_tiers, timeout=60.0, what="2024 read from the archive, 2025 from hot")
    archived = {**both, "end": "2024-07-01T00:00:00Z"}
    answer = httpx.post(f"{deployment.query_url}/query", json=archived).json()
    assert (answer["meta"]["tiers"], answer["data"]) == (
        ["archive"], [{"count": 30, "max(duration_ms)": 29.0}],
    )  # fmt: skip
    hot = {**both, "start": "2025-10-01T00:00:00Z"}
    answer = httpx.post(f"{deployment.query_url}/query", json=hot).json()
    assert (answer["meta"]["tiers"], answer["data"]) == (
        ["hot"], [{"count": 20, "max(duration_ms)": 119.0}],
    )  # fmt: skip
