"""``streamgauge cluster status``: a distributed deployment at a glance.

A thin shell over ``streamgauge.cluster.status``: the stream (JetStream), each
partition's archive offset, lag and last commit (Iceberg snapshot summaries in
the shared catalog) and each node's readiness and sink lag (``/ready``,
``/metrics``). Nodes come from ``--node`` or ``cluster.nodes``.
"""

from __future__ import annotations

import sys
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import click

from streamgauge.cli.common import CONFIG, DATA_DIR, OUTPUT, clear_errors, settings_from
from streamgauge.cli.output import console, emit_object, emit_rows
from streamgauge.errors import ConfigError

if TYPE_CHECKING:
    from streamgauge.cluster.status import ClusterStatus


@click.group("cluster")
def cluster_group() -> None:
    """Operate a distributed deployment (see docs/scaling-out.md).

    Example: streamgauge cluster status --config cluster.yaml
    """


@cluster_group.command("status")
@CONFIG
@DATA_DIR
@click.option("--node", "nodes", multiple=True, metavar="URL",
              help="A node's base URL (repeatable); default: cluster.nodes.")  # fmt: skip
@OUTPUT
@clear_errors
def status_command(
    config_path: Path | None, data_dir: Path, nodes: tuple[str, ...], output: str
) -> None:
    """Stream lag per partition, last archive commit per sink, health of every node.

    Exits 1 when the stream is unreachable or a node is not ready.

    Example: streamgauge cluster status --config cluster.yaml --node http://query-1:8788
    """
    settings = settings_from(config_path)
    if not settings.log.url:
        raise ConfigError(
            "cluster status needs the distributed log: set log.url to nats://host:port",
            details={"key": "log.url"},
        )
    urls = list(nodes) or [u.strip() for u in settings.cluster.nodes.split(",") if u.strip()]
    # The archive and JetStream clients load only when this command runs.
    from streamgauge.archive import Archive, ArchiveSettings
    from streamgauge.cluster.status import cluster_status
    from streamgauge.log.jetstream import JetStreamOptions

    archive = Archive(ArchiveSettings.from_config(settings.archive), data_dir)
    state = cluster_status(JetStreamOptions.from_settings(settings.log), archive.refresh(), urls)
    _emit(state, output)
    if state.stream is None or not all(node.ready for node in state.nodes):
        sys.exit(1)


def _emit(state: ClusterStatus, output: str) -> None:
    if output == "json":
        emit_object(asdict(state), output)
        return
    if state.stream is None:
        console.print(f"[red]stream unreachable:[/red] {state.stream_error}")
    else:
        emit_object({"stream": asdict(state.stream)}, output)
    emit_rows([asdict(p) for p in state.partitions], output, title="partitions (archive sinks)")
    rows = [
        {"node": n.url, "ready": n.ready, "detail": n.detail,
         "sink lag": ", ".join(f"{k}={v:g}" for k, v in sorted(n.sink_lag.items()))}
        for n in state.nodes
    ]  # fmt: skip
    emit_rows(rows, output, title="nodes")
