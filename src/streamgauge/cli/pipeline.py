"""``streamgauge pipeline test``: one event through the configured pipeline, stage by stage."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import click
import msgspec

from streamgauge.cli.common import CONFIG, OUTPUT, clear_errors, settings_from
from streamgauge.errors import ValidationFailed
from streamgauge.model import Event
from streamgauge.sources import NORMALIZERS
from streamgauge.sources.native import InvalidEvent, NormalizeOptions


@click.group("pipeline")
def pipeline_group() -> None:
    """Try the pipeline configuration (schemas, enrichment, transforms).

    Example: streamgauge pipeline test --event '{"event": "signup"}'
    """


def _shown(event: Event | None) -> dict[str, Any] | None:
    if event is None:
        return None
    row = msgspec.structs.asdict(event)
    for name in ("properties", "context"):
        if row[name] is not None:
            row[name] = msgspec.json.decode(row[name])
    return {k: v for k, v in row.items() if v is not None}


@pipeline_group.command("test")
@click.option("--event", "event_json", required=True, help="One event as JSON (native shape).")
@click.option(
    "--source", default="native", show_default=True, type=click.Choice(sorted(NORMALIZERS)),
    help="The wire format of --event.",
)  # fmt: skip
@click.option("--project", default="default", show_default=True, help="The sending project.")
@CONFIG
@OUTPUT
@clear_errors
def pipeline_test(
    event_json: str, source: str, project: str, config_path: Path | None, output: str
) -> None:
    """Run one event through the pipeline and print each stage's output.

    Example: streamgauge pipeline test --config streamgauge.yaml --event '{"event": "signup"}'
    """
    settings = settings_from(config_path)
    options = NormalizeOptions(
        project_id=project,
        received_at=time.time_ns() // 1000,
        max_future_us=int(settings.ingest.max_future_skew_s * 1_000_000),
        max_name_length=settings.ingest.max_name_length,
        max_event_bytes=settings.ingest.max_event_bytes,
        source=source,
    )
    try:
        event = NORMALIZERS[source](event_json.encode(), options)
    except InvalidEvent as invalid:
        raise ValidationFailed(
            f"the event is invalid: {invalid.field}: {invalid.message}"
        ) from None
    from streamgauge.pipeline import Pipeline

    pipeline = Pipeline(settings.pipeline)
    try:
        stages = pipeline.trace(event)
    finally:
        pipeline.close()
    rows = [{"stage": s.stage, "note": s.note, "event": _shown(s.event)} for s in stages]
    if output == "json":
        sys.stdout.write(msgspec.json.encode(rows).decode() + "\n")
        return
    for row in rows:
        note = f"  ({row['note']})" if row["note"] else ""
        click.echo(f"== {row['stage']}{note}")
        if row["event"] is not None:
            click.echo(msgspec.json.format(msgspec.json.encode(row["event"]), indent=2).decode())
