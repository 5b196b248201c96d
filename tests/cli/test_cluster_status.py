"""``streamgauge cluster status`` against a real stream and archive, with one node down."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from streamgauge.archive import Archive, ArchiveSettings
from streamgauge.cli.main import cli
from streamgauge.cluster.archive_sink import PartitionArchiveSink
from streamgauge.log.jetstream import JetStreamLog, JetStreamOptions
from streamgauge.model import Event
from tests.conftest import require_binary
from tests.support.nats import NATS_SERVER, NatsServer
from tests.support.server import free_port

pytestmark = [pytest.mark.service]


def test_status_shows_partition_lag_last_commit_and_a_node_that_is_down(tmp_path: Path) -> None:
    nats = NatsServer(tmp_path / "nats", binary=require_binary("nats-server", NATS_SERVER))
    nats.start()
    try:
        options = JetStreamOptions(url=nats.url, partitions=2)
        log = JetStreamLog(options, connect_timeout_s=10.0)
        now = time.time_ns() // 1000
        events = [Event("p", f"e{i}", "page", now, now) for i in range(40)]
        try:
            log.append(events).result(10)
            # Partition 0 archived up to its head; partition 1 not at all.
            sink = PartitionArchiveSink(Archive(ArchiveSettings(), tmp_path / "data"), 0, 2)
            table, last = log.for_partition(0).read_table(0, 1000)
            assert table is not None
            sink.write(table, last)
            sink.flush()
            in_p1 = len(log.for_partition(1).read(0, 1000)[0])
        finally:
            log.close()
        down = f"http://127.0.0.1:{free_port()}"
        env = {"STREAMGAUGE_LOG__URL": nats.url, "STREAMGAUGE_LOG__PARTITIONS": "2"}
        result = CliRunner().invoke(
            cli,
            [
                "cluster",
                "status",
                "--data-dir",
                str(tmp_path / "data"),
                "--node",
                down,
                "-o",
                "json",
            ],
            env=env,
        )
    finally:
        nats.kill()
    assert result.exit_code == 1, result.output  # a node is not ready
    status = json.loads(result.output)
    assert status["stream"]["messages"] == 40 and status["stream"]["last_seq"] == 40
    p0, p1 = status["partitions"]
    assert (p0["archived_offset"], p0["lag_messages"]) == (last, 0)
    assert p0["last_commit_snapshot"] == sink.last_flush.snapshot_id  # type: ignore[union-attr]
    assert (p1["archived_offset"], p1["lag_messages"], p1["last_commit_at"]) == (0, in_p1, None)
    assert status["nodes"] == [
        {"url": down, "ready": False, "detail": "unreachable: ConnectError", "sink_lag": {}}
    ]
