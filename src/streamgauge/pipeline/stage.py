"""The pipeline stage: schemas, then enrichment, then transforms, between validation and the log.

Enrichment runs before the transforms so that a transform can filter on its
results (``context.ua.is_bot``) and a redact or hash step removes the IP after
the country was looked up. ``run`` works on one request's events; the SQL
transform splits the per-event steps into runs around each micro-batch query.
Dead letters never carry what the privacy steps remove: rejected payloads are
scrubbed with every redact pattern, and hashed values found in them replaced.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import msgspec

from streamgauge.model import Event
from streamgauge.pipeline.config import PipelineSettings, SqlTransform
from streamgauge.pipeline.draft import Draft, Test, compile_condition
from streamgauge.pipeline.enrich import GeoIpEnricher, UserAgentEnricher
from streamgauge.pipeline.schemas import SchemaCheck
from streamgauge.pipeline.sql_step import SqlFailed, SqlStep
from streamgauge.pipeline.transforms import Hash, Redact, Step, build_step


@dataclass(slots=True)
class Rejected:
    """An event the pipeline refused: its index in the request, why, and what to keep."""

    position: int
    field: str
    message: str
    hashed: bytes | None = None
    """Values hash steps replace, for ``Pipeline.scrub`` of the raw payload."""
    transformed: bytes | None = None
    """The event as transformed so far (a failed sql step): kept instead of the raw payload."""


@dataclass(slots=True)
class Outcome:
    events: list[Event] = field(default_factory=list)
    positions: list[int] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    discarded: Counter[str] = field(default_factory=Counter)
    """Events removed by filter and sample steps, by step name."""


@dataclass(slots=True)
class TraceStage:
    """One stage's output for ``streamgauge pipeline test``."""

    stage: str
    event: Event | None
    note: str = ""


Guarded = tuple[str, Test | None, Step]


class Pipeline:
    """Everything the ``pipeline:`` section does to events on their way to the log."""

    def __init__(self, settings: PipelineSettings) -> None:
        self.settings = settings
        checks = settings.schemas or settings.project_unknown_events
        self.schemas = SchemaCheck(settings) if checks else None
        enrich = settings.enrichment
        self.enrichers: list[UserAgentEnricher | GeoIpEnricher] = []
        if enrich.geoip.database:
            self.enrichers.append(GeoIpEnricher(enrich.geoip))
        if enrich.user_agent.enabled:
            self.enrichers.append(UserAgentEnricher(enrich.user_agent))
        # Runs of per-event steps, separated by SQL steps.
        self.segments: list[list[Guarded] | tuple[Test | None, SqlStep]] = []
        run: list[Guarded] = []
        for index, config in enumerate(settings.transforms):
            condition = compile_condition(config.when)
            if isinstance(config, SqlTransform):
                self.segments += (
                    [run, (condition, SqlStep(config))] if run else [(condition, SqlStep(config))]
                )
                run = []
            else:
                step = build_step(config)
                run.append((f"{index}:{getattr(step, 'name', step.kind)}", condition, step))
        if run or not self.segments:
            self.segments.append(run)
        steps = [s for seg in self.segments if isinstance(seg, list) for _, _, s in seg]
        self.redactors = [s for s in steps if isinstance(s, Redact)]
        self.hashers = [s for s in steps if isinstance(s, Hash)]

    def run(self, events: Sequence[Event], positions: Sequence[int]) -> Outcome:
        outcome = Outcome()
        drafts: list[Draft] = []
        kept_positions: list[int] = []
        for event, position in zip(events, positions, strict=True):
            draft = Draft(event)
            if self.schemas is not None:
                violation = self.schemas.check(draft)
                if violation is not None:
                    hashed = self._hashed_values(draft)
                    outcome.rejected.append(
                        Rejected(position, violation.field, violation.message, hashed)
                    )
                    continue
            for enricher in self.enrichers:
                enricher.apply(draft)
            drafts.append(draft)
            kept_positions.append(position)
        for segment in self.segments:
            if isinstance(segment, list):
                drafts, kept_positions = self._per_event(segment, drafts, kept_positions, outcome)
            else:
                drafts, kept_positions = self._sql(segment, drafts, kept_positions, outcome)
        outcome.events = [d.finish() for d in drafts]
        outcome.positions = kept_positions
        return outcome

    def _per_event(
        self, steps: list[Guarded], drafts: list[Draft], positions: list[int], outcome: Outcome
    ) -> tuple[list[Draft], list[int]]:
        if not steps:
            return drafts, positions
        kept, kept_positions = [], []
        for draft, position in zip(drafts, positions, strict=True):
            for name, condition, step in steps:
                if (condition is None or condition(draft)) and not step.apply(draft):
                    outcome.discarded[name] += 1
                    break
            else:
                kept.append(draft)
                kept_positions.append(position)
        return kept, kept_positions

    def _sql(
        self, segment: tuple[Test | None, SqlStep], drafts: list[Draft], positions: list[int],
        outcome: Outcome,
    ) -> tuple[list[Draft], list[int]]:  # fmt: skip
        condition, step = segment
        chosen = [i for i, d in enumerate(drafts) if condition is None or condition(d)]
        if not chosen:
            return drafts, positions
        events = [drafts[i].finish() for i in chosen]
        try:
            survivors = {id(e) for e in step.run(events)}
        except SqlFailed as error:
            # The transformed event, not the raw payload: the statement may be the PII filter.
            for i in chosen:
                payload = msgspec.json.encode(drafts[i].event)
                outcome.rejected.append(Rejected(positions[i], "", str(error), transformed=payload))
            survivors = set()
        else:
            if len(survivors) < len(chosen):
                outcome.discarded["sql"] += len(chosen) - len(survivors)
        picked = set(chosen)
        kept, kept_positions = [], []
        for i, (draft, position) in enumerate(zip(drafts, positions, strict=True)):
            if i not in picked:
                kept.append(draft)
            elif id(draft.event) in survivors:
                kept.append(Draft(draft.event))
            else:
                continue
            kept_positions.append(position)
        return kept, kept_positions

    def _hashed_values(self, draft: Draft) -> bytes | None:
        """Marker for ``scrub``: the values hash steps would replace, JSON-encoded."""
        pairs = [
            (msgspec.json.encode(value), msgspec.json.encode(hasher.digest(value)))
            for hasher in self.hashers
            for path in hasher.paths
            if isinstance(value := draft.get(path), str) and value
        ]
        return msgspec.json.encode(pairs) if pairs else None

    @property
    def scrubs(self) -> bool:
        return bool(self.redactors or self.hashers)

    def scrub(self, raw: bytes, hashed: bytes | None = None) -> bytes:
        """A dead letter's payload with every redact pattern masked and hashed values replaced."""
        text = raw.decode(errors="replace")
        if hashed is not None:
            for original, digest in msgspec.json.decode(hashed, type=list[tuple[bytes, bytes]]):
                text = text.replace(original.decode(), digest.decode())
        for redactor in self.redactors:
            text = redactor.scrub(text)
        return text.encode()

    def trace(self, event: Event) -> list[TraceStage]:
        """Each stage's output for one event (``streamgauge pipeline test``)."""
        stages = [TraceStage("normalized", _copy(event))]
        draft = Draft(_copy(event))
        if self.schemas is not None:
            violation = self.schemas.check(draft)
            if violation is not None:
                note = f"rejected: {violation.field} {violation.message}"
                return [*stages, TraceStage("schema", None, note)]
            note = "; ".join(draft.violations) or "valid"
            stages.append(TraceStage("schema", draft.snapshot(), note))
        for enricher in self.enrichers:
            enricher.apply(draft)
            stages.append(TraceStage(f"enrich:{enricher.kind}", draft.snapshot()))
        for segment in self.segments:
            if isinstance(segment, list):
                for name, condition, step in segment:
                    if condition is not None and not condition(draft):
                        stages.append(TraceStage(name, draft.snapshot(), "skipped: when"))
                    elif not step.apply(draft):
                        return [*stages, TraceStage(name, None, "discarded")]
                    else:
                        stages.append(TraceStage(name, draft.snapshot()))
            else:
                condition, sql = segment
                if condition is not None and not condition(draft):
                    stages.append(TraceStage("sql", draft.snapshot(), "skipped: when"))
                    continue
                kept = sql.run([draft.finish()])
                if not kept:
                    return [*stages, TraceStage("sql", None, "discarded")]
                draft = Draft(kept[0])
                stages.append(TraceStage("sql", _copy(draft.event)))
        return stages

    def close(self) -> None:
        for segment in self.segments:
            if isinstance(segment, tuple):
                segment[1].close()
        for enricher in self.enrichers:
            if isinstance(enricher, GeoIpEnricher):
                enricher.close()


def _copy(event: Event) -> Event:
    return msgspec.structs.replace(event)
