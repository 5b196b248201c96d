"""The pipeline on the ingest path: rejections become 4xx entries and dead letters, discards
are counted in metrics, and no dead letter keeps what a privacy step removes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from prometheus_client import Counter

from streamgauge.log.base import DeadLetter
from streamgauge.metrics import Metrics
from streamgauge.model import Event
from streamgauge.pipeline.config import PipelineSettings
from streamgauge.pipeline.stage import Pipeline
from streamgauge.sources.native import NormalizeOptions, Rejection

if TYPE_CHECKING:
    from streamgauge.ingest.ingestor import IngestResult


class PipelineStage:
    """Runs the pipeline for one request between normalization and the log append."""

    def __init__(self, settings: PipelineSettings, metrics: Metrics) -> None:
        self.pipeline = Pipeline(settings)
        self.discarded = Counter(
            "streamgauge_pipeline_discarded",
            "Events discarded by a pipeline filter, sample or sql step",
            ["step"],
            registry=metrics.registry,
        )
        self.schema_rejected = Counter(
            "streamgauge_pipeline_rejected",
            "Events the pipeline rejected (schema violations, failed sql steps)",
            registry=metrics.registry,
        )

    def apply(
        self,
        events: list[Event],
        positions: list[int],
        raws: Sequence[bytes],
        options: NormalizeOptions,
        result: IngestResult,
        letters: list[DeadLetter],
    ) -> tuple[list[Event], list[int]]:
        """The events to append and their request indexes; rejections go into ``result``."""
        pipeline = self.pipeline
        if pipeline.scrubs and letters:  # invalid events: their raw payloads are all we have
            letters[:] = [replace(d, payload=pipeline.scrub(d.payload)) for d in letters]
        outcome = pipeline.run(events, positions)
        for rejected in outcome.rejected:
            payload = rejected.transformed or raws[rejected.position]
            if pipeline.scrubs:
                payload = pipeline.scrub(payload, rejected.hashed)
            result.rejections.append(
                Rejection(rejected.position, rejected.field, rejected.message, payload)
            )
            letters.append(
                DeadLetter(
                    options.project_id, options.received_at, options.source,
                    rejected.field, rejected.message, payload,
                )
            )  # fmt: skip
        if outcome.rejected:
            result.rejections.sort(key=lambda r: r.index)
            self.schema_rejected.inc(len(outcome.rejected))
        for step, count in outcome.discarded.items():
            self.discarded.labels(step).inc(count)
            result.filtered += count
        return outcome.events, outcome.positions

    def close(self) -> None:
        self.pipeline.close()
