"""Config-driven schemas, enrichment, transforms, custom columns and extra destinations.

Applied between validation and the log (``ingest.ingestor``), so every sink sees
the same transformed event. docs/pipeline.md explains the ``pipeline:`` section.
"""

from typing import TYPE_CHECKING, Any

from streamgauge.pipeline.config import PipelineSettings

if TYPE_CHECKING:
    from streamgauge.pipeline.stage import Outcome, Pipeline, TraceStage

_STAGE = frozenset({"Outcome", "Pipeline", "TraceStage"})


def __getattr__(name: str) -> Any:
    # The stage (DuckDB sandbox, parsers) loads on first use: importing the config
    # section, as every command does, stays light.
    if name in _STAGE:
        from streamgauge.pipeline import stage

        return getattr(stage, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["Outcome", "Pipeline", "PipelineSettings", "TraceStage"]
