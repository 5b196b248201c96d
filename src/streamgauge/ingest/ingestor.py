"""From raw events to the log: normalize, dead-letter the invalid, append, count.

Every source (native, Segment, PostHog, OTLP, CloudEvents) ends here with a
list of raw payloads and a normalizer, so validation, dedup, durability and
metrics are the same for all of them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from streamgauge.config import Settings
from streamgauge.log.base import DeadLetter, Log
from streamgauge.metrics import Metrics
from streamgauge.model import Event
from streamgauge.pipeline.ingest import PipelineStage
from streamgauge.scope import Principal
from streamgauge.sources.native import InvalidEvent, NormalizeOptions, Rejection, normalize


@dataclass(slots=True)
class IngestResult:
    """The answer to an ingest request, in the order the events came."""

    accepted: int = 0
    duplicates: int = 0
    filtered: int = 0
    """Events discarded by the pipeline's filter, sample or sql steps (counted, not stored)."""
    rejections: list[Rejection] = field(default_factory=list)
    duplicate_indexes: list[int] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        return len(self.rejections)

    def as_json(self) -> dict[str, object]:
        answer: dict[str, object] = {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "errors": [r.as_json() for r in self.rejections],
        }
        if self.filtered:
            answer["filtered"] = self.filtered
        return answer


Normalizer = Callable[[bytes, NormalizeOptions], Event]


class Ingestor:
    """Turns raw payloads into durable events."""

    def __init__(self, log: Log, settings: Settings, metrics: Metrics) -> None:
        self.log = log
        self.settings = settings
        self.metrics = metrics
        # None unless the config asks for schemas, enrichment or transforms: no cost otherwise.
        self.pipeline = (
            PipelineStage(settings.pipeline, metrics) if settings.pipeline.active else None
        )

    def options(self, principal: Principal, source: str) -> NormalizeOptions:
        limits = self.settings.ingest
        return NormalizeOptions(
            project_id=principal.project_id,
            received_at=time.time_ns() // 1000,
            max_future_us=int(limits.max_future_skew_s * 1_000_000),
            max_name_length=limits.max_name_length,
            max_event_bytes=limits.max_event_bytes,
            source=source,
        )

    async def ingest(
        self,
        principal: Principal,
        raws: Sequence[bytes],
        *,
        source: str = "native",
        normalizer: Normalizer = normalize,
    ) -> IngestResult:
        options = self.options(principal, source)
        events: list[Event] = []
        positions: list[int] = []  # index in the request of each event
        result = IngestResult()
        letters: list[DeadLetter] = []
        for index, raw in enumerate(raws):
            try:
                events.append(normalizer(raw, options))
            except InvalidEvent as invalid:
                result.rejections.append(Rejection(index, invalid.field, invalid.message, raw))
                letters.append(
                    DeadLetter(
                        principal.project_id,
                        options.received_at,
                        source,
                        invalid.field,
                        invalid.message,
                        raw,
                    )
                )
            else:
                positions.append(index)
        if self.pipeline is not None:
            events, positions = self.pipeline.apply(
                events, positions, raws, options, result, letters
            )
        return await self.append(events, positions, letters, result, source)

    async def append(
        self,
        events: list[Event],
        positions: list[int],
        letters: list[DeadLetter],
        result: IngestResult,
        source: str,
    ) -> IngestResult:
        if events or letters:
            appended = await self.log.append_async(events, letters)
            result.accepted = appended.accepted
            result.duplicates = len(appended.duplicate_indexes)
            result.duplicate_indexes = [positions[i] for i in appended.duplicate_indexes]
        self.metrics.accepted.labels(source).inc(result.accepted)
        self.metrics.duplicates.labels(source).inc(result.duplicates)
        self.metrics.rejected.labels(source).inc(result.rejected)
        return result
