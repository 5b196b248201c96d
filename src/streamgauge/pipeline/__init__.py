"""Config-driven schemas, enrichment, transforms, custom columns and extra destinations.

Applied between validation and the log (``ingest.ingestor``), so every sink sees
the same transformed event. docs/pipeline.md explains the ``pipeline:`` section.
"""

from streamgauge.pipeline.config import PipelineSettings
from streamgauge.pipeline.stage import Outcome, Pipeline, TraceStage

__all__ = ["Outcome", "Pipeline", "PipelineSettings", "TraceStage"]
